using ClusterContext.Protocol.Messages;

namespace ClusterContext.Protocol.Multiplexing;

/// <summary>A request this side sent and whose answer it awaits.</summary>
internal sealed class PendingRequest
{
    private readonly TaskCompletionSource<Message> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<Message> Answer => _answer.Task;

    public void Complete(Message message) => _answer.TrySetResult(message);

    public void Fail(Exception error) => _answer.TrySetException(error);

    public void Cancel(CancellationToken token) => _answer.TrySetCanceled(token);
}
