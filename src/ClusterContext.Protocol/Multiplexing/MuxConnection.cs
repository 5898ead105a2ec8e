using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Threading.Channels;
using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterContext.Protocol.Multiplexing;

/// <summary>
/// One connection between the library and the agent: requests with ids, and byte streams with credit-based flow
/// control, over a single transport. Both peers use this type; the client opens it with
/// <see cref="ConnectAsync"/>, the agent with <see cref="AcceptAsync"/>.
/// </summary>
internal sealed partial class MuxConnection : IAsyncDisposable
{
    private readonly IDuplexPipe _transport;
    private readonly MuxConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<OutgoingFrame> _outgoing = Channel.CreateUnbounded<OutgoingFrame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _outgoingBudget;
    private readonly ConcurrentDictionary<uint, PendingRequest> _pending = new();
    private readonly ConcurrentDictionary<uint, MuxStream> _streams = new();
    private readonly ConcurrentDictionary<uint, IncomingRequest> _incoming = new();
    private readonly List<MuxStream> _received = [];
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Func<IncomingRequest, Task>? _handler;
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private Exception? _closeReason;
    private int _peerStreamWindow;
    private uint _nextId;

    private static readonly TimeSpan CloseFlushTimeout = TimeSpan.FromSeconds(2);

    private MuxConnection(IDuplexPipe transport, bool isClient, MuxConnectionOptions? options, ILogger? logger)
    {
        _transport = transport;
        _options = options ?? new MuxConnectionOptions();
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _outgoingBudget = new SemaphoreSlim(Math.Max(1, _options.OutgoingBufferBytes / ProtocolLimits.MaxDataChunk));
        IsClient = isClient;
        _nextId = isClient ? 1u : 2u;
    }

    /// <summary>true on the side that sent the hello.</summary>
    public bool IsClient { get; }

    /// <summary>What the agent said in the handshake (on the client), or what the client asked for (on the agent).</summary>
    public HelloMessage? Hello { get; private set; }

    /// <summary>The agent's side of the handshake.</summary>
    public WelcomeMessage? Welcome { get; private set; }

    /// <summary>Completes when the connection has closed; faults with the reason when it closed on an error.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Number of streams open now.</summary>
    public int OpenStreamCount => _streams.Count;

    /// <summary>Cancelled when the connection starts closing.</summary>
    public CancellationToken Closing => _closing.Token;

    internal MuxConnectionOptions Options => _options;

    internal int PeerStreamWindow => _peerStreamWindow;

    private void Start(Func<IncomingRequest, Task>? handler)
    {
        _handler = handler;
        _writeLoop = Task.Run(WriteLoopAsync);
        _readLoop = Task.Run(ReadLoopAsync);
        _ = Task.WhenAll(_readLoop, _writeLoop).ContinueWith(
            static (_, state) => ((MuxConnection)state!).OnLoopsEnded(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    // Completion waits for both loops, so that an error frame reaches the peer before the owner closes the transport.
    private void OnLoopsEnded()
    {
        if (_closeReason is null or SessionLostException)
        {
            _completion.TrySetResult();
        }
        else
        {
            _completion.TrySetException(_closeReason);
        }
    }

    private uint NextId() => Interlocked.Add(ref _nextId, 2) - 2;

    /// <summary>Closes the connection: says goodbye, lets queued frames go out, and ends every open stream and request.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_closeReason is null)
        {
            TryEnqueue(new OutgoingFrame(FrameType.Goodbye, 0, null, 0, Rented: false, Budgeted: false));
        }

        Close(new SessionLostException("The connection was closed."));
        await Task.WhenAll(_readLoop, _writeLoop).ConfigureAwait(false);
        OnLoopsEnded();
    }

    /// <summary>
    /// Starts closing the connection once: queued frames are still written, then the transport is completed.
    /// Waiting requests and open streams fail with <paramref name="reason"/>.
    /// </summary>
    private void Close(Exception reason)
    {
        if (Interlocked.CompareExchange(ref _closeReason, reason, null) is not null)
        {
            return;
        }

        _outgoing.Writer.TryComplete();
        _closing.Cancel();

        // Queued frames (an error frame above all) get a moment to go out; a peer that does not read
        // must not keep the connection, and whoever awaits its completion, forever.
        _ = Task.Delay(CloseFlushTimeout).ContinueWith(
            static (_, state) => ((MuxConnection)state!).AbandonWrites(), this, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        var lost = reason as SessionLostException ?? new SessionLostException($"The session with the peer was lost: {reason.Message}", reason);
        foreach (var pending in _pending.Values)
        {
            pending.Fail(lost);
        }

        foreach (var stream in _streams.Values)
        {
            stream.Abort(lost);
        }

        foreach (var request in _incoming.Values)
        {
            request.CancelFromPeer();
        }
    }

    // A write the peer does not take within the close's grace ends, so the write loop can.
    private void AbandonWrites()
    {
        _transport.Output.CancelPendingFlush();
        if (!_writeLoop.IsCompleted && _transport is StreamDuplexPipe { Gathering: { } gathering })
        {
            gathering.Abandon();
        }
    }

    /// <summary>Reports a protocol error to the peer, then closes only this connection.</summary>
    private void FailProtocol(ProtocolException error)
    {
        Log.ProtocolError(_logger, error.Code, error.Message);
        TryEnqueue(new OutgoingFrame(FrameType.Error, 0, new ErrorPayload(error.Code, error.Message).Encode(), -1, Rented: false, Budgeted: false));
        Close(error);
    }

    internal void RemoveStream(uint id) => _streams.TryRemove(id, out _);
}
