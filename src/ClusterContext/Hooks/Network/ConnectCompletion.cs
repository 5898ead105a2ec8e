using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// Runs first when a redirected connect of the app's own <see cref="SocketAsyncEventArgs"/> completes, to give
/// <see cref="SocketAsyncEventArgs.RemoteEndPoint"/> back the app's destination (it holds the loopback stand-in while
/// the connect runs) before the app's Completed handlers see it; then puts the app's handlers back as they were.
/// The BCL's own event args (behind the Task-returning connects) raise no Completed event and need none of this.
/// </summary>
internal sealed class ConnectCompletion
{
    private readonly SocketAsyncEventArgs _args;
    private readonly EndPoint _destination;
    private readonly EventHandler<SocketAsyncEventArgs>? _handlers;
    private readonly EventHandler<SocketAsyncEventArgs> _first;
    private int _released;

    private ConnectCompletion(SocketAsyncEventArgs args, EndPoint destination)
    {
        _args = args;
        _destination = destination;
        _handlers = CompletedField(args);
        _first = OnCompleted;
        CompletedField(args) = _first;
    }

    /// <summary>Puts this first in the Completed handlers of <paramref name="args"/> if the app can see them; null otherwise.</summary>
    public static ConnectCompletion? Intercept(SocketAsyncEventArgs args, EndPoint destination) =>
        Available && args.GetType().Assembly != typeof(Socket).Assembly ? new ConnectCompletion(args, destination) : null;

    /// <summary>The connect completed without raising Completed (or failed to start): the handlers go back untouched.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            Interlocked.CompareExchange(ref CompletedField(_args), _handlers, _first);
        }
    }

    private void OnCompleted(object? sender, SocketAsyncEventArgs args)
    {
        args.RemoteEndPoint = _destination;
        Release();
        _handlers?.Invoke(sender, args);
    }

    private static bool Available { get; } = Probe();

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "Completed")]
    private static extern ref EventHandler<SocketAsyncEventArgs>? CompletedField(SocketAsyncEventArgs args);

    private static bool Probe()
    {
        try
        {
            using var args = new SocketAsyncEventArgs();
            _ = CompletedField(args);
            return true;
        }
        catch (MissingFieldException)
        {
            return false;
        }
    }
}
