using System.Diagnostics;
using System.Diagnostics.Metrics;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Diagnostics;

/// <summary>
/// The session's metrics and traces, all named "ClusterContext" (the Meter, the ActivitySource and the EventSource),
/// so that one name given to dotnet-counters or OpenTelemetry sees all of it. Counting costs an interlocked add;
/// instruments and activities cost nothing more while nobody listens.
/// </summary>
internal static class ClusterContextTelemetry
{
    public const string Name = "ClusterContext";

    public static readonly ActivitySource ActivitySource = new(Name, ThisVersion);

    private static readonly Meter Meter = new(Name, ThisVersion);
    private static readonly Counter<long> SessionsStarted = Meter.CreateCounter<long>("clustercontext.sessions.started", "{session}", "Sessions started; a lost session restored counts as a reconnect, not here.");
    private static readonly UpDownCounter<long> SessionsActive = Meter.CreateUpDownCounter<long>("clustercontext.sessions.active", "{session}", "Sessions connected to an agent now.");
    private static readonly Counter<long> Operations = Meter.CreateCounter<long>("clustercontext.remote.operations", "{operation}", "Operations carried out in the pod for the hooks, by kind.");
    private static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>("clustercontext.remote.operation.duration", "s", "How long operations carried out in the pod took, by kind.");
    private static readonly Counter<long> BytesSent = Meter.CreateCounter<long>("clustercontext.bytes.sent", "By", "Bytes written to the connection with the agent.");
    private static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>("clustercontext.bytes.received", "By", "Bytes read from the connection with the agent.");
    private static readonly Counter<long> IncomingRequests = Meter.CreateCounter<long>("clustercontext.incoming.requests", "{request}", "Connections (HTTP requests on a filtered port) of the pod's incoming traffic served by the session, by mode (steal or mirror).");
    private static readonly Counter<long> Reconnects = Meter.CreateCounter<long>("clustercontext.reconnects", "{reconnect}", "Lost sessions replaced by a new one.");

    // Running totals for the EventSource's polling counters (dotnet-counters' EventCounter view).
    private static long s_sessionsActive;
    private static long s_operations;
    private static long s_bytesSent;
    private static long s_bytesReceived;
    private static long s_stolen;
    private static long s_mirrored;
    private static long s_reconnects;

    private static string? ThisVersion => typeof(ClusterContextTelemetry).Assembly.GetName().Version?.ToString(3);

    public static long ActiveSessions => Volatile.Read(ref s_sessionsActive);

    public static long OperationCount => Volatile.Read(ref s_operations);

    public static long SentBytes => Volatile.Read(ref s_bytesSent);

    public static long ReceivedBytes => Volatile.Read(ref s_bytesReceived);

    public static long StolenRequests => Volatile.Read(ref s_stolen);

    public static long MirroredRequests => Volatile.Read(ref s_mirrored);

    public static long ReconnectCount => Volatile.Read(ref s_reconnects);

    /// <summary>Makes the EventSource exist, so that dotnet-counters finds it from the session's start on.</summary>
    public static void EnsureEventSource() => _ = ClusterContextEventSource.Log;

    public static void SessionStarted()
    {
        SessionsStarted.Add(1);
        SessionsActive.Add(1);
        Interlocked.Increment(ref s_sessionsActive);
    }

    public static void SessionEnded()
    {
        SessionsActive.Add(-1);
        Interlocked.Decrement(ref s_sessionsActive);
    }

    public static Activity? StartOperation(string kind, string what)
    {
        var activity = ActivitySource.StartActivity("clustercontext " + kind, ActivityKind.Client);
        activity?.SetTag("clustercontext.operation", kind);
        activity?.SetTag("clustercontext.operation.target", what);
        return activity;
    }

    public static void OperationDone(string kind, long startTimestamp, Exception? error, Activity? activity)
    {
        Interlocked.Increment(ref s_operations);
        var outcome = error is null ? "ok" : "error";
        Operations.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("outcome", outcome));
        if (OperationDuration.Enabled)
        {
            OperationDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new KeyValuePair<string, object?>("kind", kind));
        }

        if (activity is not null)
        {
            if (error is not null)
            {
                activity.SetStatus(ActivityStatusCode.Error, error.Message);
            }

            activity.Dispose();
        }
    }

    public static void Sent(int count)
    {
        Interlocked.Add(ref s_bytesSent, count);
        BytesSent.Add(count);
    }

    public static void Received(int count)
    {
        Interlocked.Add(ref s_bytesReceived, count);
        BytesReceived.Add(count);
    }

    public static void Incoming(IncomingMode mode)
    {
        Interlocked.Increment(ref mode == IncomingMode.Mirror ? ref s_mirrored : ref s_stolen);
        IncomingRequests.Add(1, new KeyValuePair<string, object?>("mode", mode == IncomingMode.Mirror ? "mirror" : "steal"));
    }

    public static void Reconnected()
    {
        Interlocked.Increment(ref s_reconnects);
        Reconnects.Add(1);
    }

    /// <summary>The operation's kind from its description ("read /etc/config/a" is a read), a small fixed set for metric tags.</summary>
    public static string OperationKind(string what) => what switch
    {
        _ when what.StartsWith("read ", StringComparison.Ordinal) => "read",
        _ when what.StartsWith("stat ", StringComparison.Ordinal) => "stat",
        _ when what.StartsWith("list ", StringComparison.Ordinal) => "list",
        _ when what.StartsWith("write ", StringComparison.Ordinal) => "write",
        _ when what.StartsWith("resolve ", StringComparison.Ordinal) => "resolve",
        _ when what.StartsWith("connect ", StringComparison.Ordinal) => "connect",
        _ when what.StartsWith("open a UDP", StringComparison.Ordinal) => "udp",
        _ when what.StartsWith("Subscribing", StringComparison.Ordinal) => "subscribe",
        _ when what.StartsWith("Unsubscribing", StringComparison.Ordinal) => "unsubscribe",
        _ => "other",
    };
}
