namespace ClusterContext.Agent.Incoming;

/// <summary>
/// Sends new TCP connections to pod ports to a listener of the agent's, inside the pod's network namespace: those
/// arriving from outside the pod and those made inside it over loopback, except the agent's own (sockets marked
/// <see cref="ExemptMark"/>). Every redirect ends with the agent, however it ends (SIGKILL and OOM included).
/// Connections open before a redirect stay with the app.
/// </summary>
internal interface IPortRedirector : IDisposable
{
    /// <summary>The socket mark (SO_MARK) of the agent's own connections to the pod's ports, which are never redirected.</summary>
    const uint ExemptMark = 0xc1c7;

    /// <summary>From now on, new connections to <paramref name="podPort"/> go to <paramref name="listenerPort"/>; a second call for the same port replaces the first.</summary>
    void Redirect(ushort podPort, ushort listenerPort);

    /// <summary>New connections to <paramref name="podPort"/> reach the app again.</summary>
    void Remove(ushort podPort);
}
