namespace ClusterContext.EndToEndTests;

/// <summary>
/// Tests that run one after the other: the sandbox cluster test that builds, tests and watches projects with the SDK
/// (both cores loaded for minutes) and the incoming tests that bound how long the pod's clients may wait while an
/// app or agent is killed. Side by side, the SDK's load alone could stretch one request past such a bound.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TimingGroup
{
    public const string Name = "timing";
}
