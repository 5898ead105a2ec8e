namespace ClusterContext.Agent.FunctionalTests;

[CollectionDefinition(Name)]
public sealed class SandboxGroup : ICollectionFixture<SandboxAgentFixture>
{
    public const string Name = "pod sandbox with agent";
}
