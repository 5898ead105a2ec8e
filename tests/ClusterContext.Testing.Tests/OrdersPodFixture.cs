namespace ClusterContext.Testing.Tests;

/// <summary>The fixture as a user subclasses it: the target in code, the rest from the environment (KUBECONFIG).</summary>
public sealed class OrdersPodFixture : ClusterContextFixture
{
    protected override void Configure(ClusterContextOptions options) => options.Target = "deployment/orders";
}

[CollectionDefinition(Name)]
public sealed class OrdersPod : ICollectionFixture<OrdersPodFixture>
{
    public const string Name = "orders pod";
}
