namespace ClusterContext.Cli.Tests;

/// <summary>One sandbox cluster for every test class here; they run one after the other (a doctor test changes its RBAC).</summary>
[CollectionDefinition(Name)]
public sealed class SandboxGroup : ICollectionFixture<SandboxClusterFixture>
{
    public const string Name = "sandbox cluster";
}
