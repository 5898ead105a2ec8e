namespace ClusterContext.Tests.Patching;

/// <summary>Patches are process-global: these tests run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PatchingGroup
{
    public const string Name = "patching";
}
