using ClusterContext.Protocol;
using ClusterContext.Protocol.Multiplexing;

namespace ClusterContext.Agent.Incoming.Coordination;

/// <summary>
/// Joins the leader's incoming stream to the session's: bytes both ways, each side's end passed on as an end, a reset
/// passed on as a reset, so the session sees exactly what the leading agent's own session would.
/// </summary>
internal static class StreamRelay
{
    public static async Task RunAsync(MuxStream leader, MuxStream session)
    {
        await using (leader.ConfigureAwait(false))
        await using (session.ConfigureAwait(false))
        {
            await Task.WhenAll(PumpAsync(leader, session), PumpAsync(session, leader)).ConfigureAwait(false);
        }
    }

    private static async Task PumpAsync(MuxStream from, MuxStream to)
    {
        try
        {
            await from.CopyToAsync(to).ConfigureAwait(false);
            to.CompleteWrites();
        }
        catch (RemoteException ex)
        {
            to.Reset(ex.Code, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
            to.Reset(ErrorCode.ConnectionReset, $"The other side of the relay broke off: {ex.Message}");
        }
    }
}
