using System.Net;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;

namespace ClusterContext.Agent.Incoming;

/// <summary>
/// One session of this agent as the incoming service sees it: who it is, and the connection to open incoming
/// streams on. The connection is known only once the handshake completes, while the session may subscribe at once.
/// </summary>
/// <param name="agent">The agent serving the session, named when several agents of the pod share one table of subscriptions.</param>
internal sealed class IncomingSession(string id, string? agent = null)
{
    private readonly TaskCompletionSource<MuxConnection> _connection = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Id { get; } = id;

    /// <summary>The client name the session gave in its hello, to name it in errors other sessions see.</summary>
    public string ClientName { get; private set; } = "?";

    /// <summary>The session's id, with its agent's name when the pod's agents coordinate (ids are per agent).</summary>
    public string QualifiedId => agent is null ? Id : $"{Id} of {agent}";

    public override string ToString() => $"session {QualifiedId} ({ClientName})";

    /// <param name="clientName">The name to show for the session; the hello's client name when not given.</param>
    public void Attach(MuxConnection connection, string? clientName = null)
    {
        ClientName = clientName ?? connection.Hello?.ClientName ?? "?";
        _connection.TrySetResult(connection);
    }

    public void Detach() => _connection.TrySetException(new SessionLostException("The session ended before its handshake completed."));

    /// <summary>Opens an <see cref="IncomingConnectionRequest"/> stream to the session; throws when the session is gone.</summary>
    public async Task<MuxStream> OpenAsync(ushort port, IncomingMode mode, IPEndPoint client, IPEndPoint destination, CancellationToken ct)
    {
        var connection = await _connection.Task.WaitAsync(ct).ConfigureAwait(false);
        var (_, stream) = await connection.OpenStreamAsync<IncomingConnectionResponse>(new IncomingConnectionRequest(port, mode, client, destination), ct).ConfigureAwait(false);
        return stream;
    }
}
