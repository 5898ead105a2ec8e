using System.Buffers;
using System.IO.Pipelines;
using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Protocol.Multiplexing;

internal sealed partial class MuxConnection
{
    /// <summary>
    /// Opens a session: sends the preface and hello, waits for the agent's welcome, then starts serving frames.
    /// A refused session is a <see cref="RemoteException"/> (for example <see cref="ErrorCode.Unauthorized"/>);
    /// a peer that is not an agent is a <see cref="ProtocolException"/> or a <see cref="TimeoutException"/>.
    /// </summary>
    public static async Task<MuxConnection> ConnectAsync(
        IDuplexPipe transport, string token, string clientName, MuxConnectionOptions? options = null, ILogger? logger = null,
        Func<IncomingRequest, Task>? handler = null, CancellationToken cancellationToken = default)
    {
        var connection = new MuxConnection(transport, isClient: true, options, logger);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connection._options.HandshakeTimeout);
        try
        {
            var hello = new HelloMessage(ProtocolLimits.Version, ProtocolLimits.MinimumVersion, token, clientName, (uint)connection._options.StreamWindow);
            transport.Output.Write(ProtocolLimits.Preface);
            FrameWriter.Write(transport.Output, FrameType.Hello, 0, MessageCodec.Encode(hello));
            await transport.Output.FlushAsync(timeout.Token).ConfigureAwait(false);

            var (type, message, error) = await ReadHandshakeFrameAsync(transport.Input, timeout.Token).ConfigureAwait(false);
            if (type == FrameType.Error)
            {
                throw new RemoteException(error.Code, $"The agent refused the session: {error.Message}");
            }

            if (type != FrameType.Welcome || message is not WelcomeMessage welcome)
            {
                throw new ProtocolException(ErrorCode.ProtocolError, $"Expected the agent's welcome, got a {type} frame.");
            }

            connection.Hello = hello;
            connection.Welcome = welcome;
            connection._peerStreamWindow = ValidateWindow(welcome.StreamWindow);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await AbandonAsync(transport).ConfigureAwait(false);
            throw new TimeoutException($"No handshake answer within {connection._options.HandshakeTimeout.TotalSeconds:0.#} s: the peer is not a ClusterContext agent, or it is not responding.");
        }
        catch
        {
            await AbandonAsync(transport).ConfigureAwait(false);
            throw;
        }

        connection.Start(handler);
        return connection;
    }

    /// <summary>
    /// Accepts a session on the agent's side: checks the preface and the hello, lets <paramref name="accept"/> decide
    /// (it throws <see cref="RemoteException"/> to refuse), answers with its welcome and starts serving requests
    /// with <paramref name="handler"/>. A peer that does not speak the protocol gets an error frame and is closed.
    /// </summary>
    public static async Task<MuxConnection> AcceptAsync(
        IDuplexPipe transport, Func<HelloMessage, WelcomeMessage> accept, Func<IncomingRequest, Task> handler,
        MuxConnectionOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var connection = new MuxConnection(transport, isClient: false, options, logger);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connection._options.HandshakeTimeout);
        try
        {
            await ReadPrefaceAsync(transport.Input, timeout.Token).ConfigureAwait(false);
            var (type, message, _) = await ReadHandshakeFrameAsync(transport.Input, timeout.Token).ConfigureAwait(false);
            if (type != FrameType.Hello || message is not HelloMessage hello)
            {
                throw new ProtocolException(ErrorCode.ProtocolError, $"Expected a hello frame, got {type}.");
            }

            if (hello.Version < ProtocolLimits.MinimumVersion || hello.MinimumVersion > ProtocolLimits.Version || hello.MinimumVersion > hello.Version)
            {
                throw new RemoteException(ErrorCode.UnsupportedVersion,
                    $"The client speaks protocol versions {hello.MinimumVersion}-{hello.Version}; this agent speaks {ProtocolLimits.MinimumVersion}-{ProtocolLimits.Version}. Use matching versions of the library and the agent image.");
            }

            connection._peerStreamWindow = ValidateWindow(hello.StreamWindow);
            var welcome = accept(hello) with { Version = Math.Min(hello.Version, ProtocolLimits.Version), StreamWindow = (uint)connection._options.StreamWindow };
            connection.Hello = hello;
            connection.Welcome = welcome;
            FrameWriter.Write(transport.Output, FrameType.Welcome, 0, MessageCodec.Encode(welcome));
            await transport.Output.FlushAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ProtocolException or RemoteException)
        {
            var code = ex is ProtocolException p ? p.Code : ((RemoteException)ex).Code;
            await RefuseAsync(transport, new ErrorPayload(code, ex.Message)).ConfigureAwait(false);
            throw;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await RefuseAsync(transport, new ErrorPayload(ErrorCode.ProtocolError, "No hello within the handshake timeout.")).ConfigureAwait(false);
            throw new TimeoutException($"The client sent no hello within {connection._options.HandshakeTimeout.TotalSeconds:0.#} s.");
        }
        catch
        {
            await AbandonAsync(transport).ConfigureAwait(false);
            throw;
        }

        connection.Start(handler);
        return connection;
    }

    private static int ValidateWindow(uint window) =>
        window is >= ProtocolLimits.MaxDataChunk and <= ProtocolLimits.MaxStreamWindow
            ? (int)window
            : throw new ProtocolException(ErrorCode.ProtocolError, $"Stream window of {window} bytes is outside {ProtocolLimits.MaxDataChunk}-{ProtocolLimits.MaxStreamWindow}.");

    private static async Task ReadPrefaceAsync(PipeReader input, CancellationToken cancellationToken)
    {
        var expected = ProtocolLimits.Preface.ToArray();
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var length = (int)Math.Min(buffer.Length, expected.Length);
            var received = buffer.Slice(0, length).ToArray();
            if (!received.AsSpan().SequenceEqual(expected.AsSpan(0, length)))
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                throw new ProtocolException(ErrorCode.ProtocolError, "The peer does not speak the ClusterContext agent protocol (bad preface).");
            }

            if (length == expected.Length)
            {
                input.AdvanceTo(buffer.GetPosition(length));
                return;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new ProtocolException(ErrorCode.ProtocolError, "The connection ended during the preface.");
            }
        }
    }

    private static async Task<(FrameType Type, Message? Message, ErrorPayload Error)> ReadHandshakeFrameAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (FrameReader.TryRead(ref buffer, ProtocolLimits.MaxHandshakePayload, out var header, out var payload))
            {
                var bytes = payload.ToArray();
                input.AdvanceTo(buffer.Start);
                return header.Type == FrameType.Error
                    ? (header.Type, null, ErrorPayload.Decode(bytes))
                    : (header.Type, MessageCodec.Read(bytes), default);
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new ProtocolException(ErrorCode.ProtocolError, "The connection ended during the handshake.");
            }
        }
    }

    private static async Task RefuseAsync(IDuplexPipe transport, ErrorPayload error)
    {
        try
        {
            FrameWriter.Write(transport.Output, FrameType.Error, 0, error.Encode());
            using var flushTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await transport.Output.FlushAsync(flushTimeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The peer is gone or not reading; it loses nothing it could have understood.
        }

        await AbandonAsync(transport).ConfigureAwait(false);
    }

    private static async Task AbandonAsync(IDuplexPipe transport)
    {
        await transport.Input.CompleteAsync().ConfigureAwait(false);
        await transport.Output.CompleteAsync().ConfigureAwait(false);
    }
}
