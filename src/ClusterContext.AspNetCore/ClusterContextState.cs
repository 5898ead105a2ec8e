namespace ClusterContext;

/// <summary>Where an app's ClusterContext session stands.</summary>
public enum ClusterContextState
{
    /// <summary>Not started: outside the Development environment without <c>enabled: true</c>, or <c>enabled: false</c>.</summary>
    Off,

    /// <summary>The cluster was unreachable and <c>required</c> is false: everything runs locally.</summary>
    Local,

    /// <summary>Running in the pod's context.</summary>
    Connected,

    /// <summary>The session with the pod was lost; it is being restored, and remote operations fail meanwhile.</summary>
    Lost,
}
