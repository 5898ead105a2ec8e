using System.Diagnostics.Tracing;

namespace ClusterContext.Diagnostics;

/// <summary>
/// The session's counters as EventCounters, for <c>dotnet-counters monitor --counters ClusterContext</c> (and any
/// EventListener); the values are <see cref="ClusterContextTelemetry"/>'s running totals, read when polled.
/// </summary>
[EventSource(Name = ClusterContextTelemetry.Name)]
internal sealed class ClusterContextEventSource : EventSource
{
    public static readonly ClusterContextEventSource Log = new();

    private readonly List<DiagnosticCounter> _counters = [];

    private ClusterContextEventSource()
    {
    }

    protected override void OnEventCommand(EventCommandEventArgs command)
    {
        if (command.Command != EventCommand.Enable)
        {
            return;
        }

        lock (_counters)
        {
            // Created once, on the first enable: counters cost nothing until someone listens.
            if (_counters.Count > 0)
            {
                return;
            }

            _counters.Add(new PollingCounter("sessions-active", this, () => ClusterContextTelemetry.ActiveSessions) { DisplayName = "Sessions connected" });
            _counters.Add(Rate("remote-operations", "Remote operations", () => ClusterContextTelemetry.OperationCount));
            _counters.Add(Rate("bytes-sent", "Bytes sent to the agent", () => ClusterContextTelemetry.SentBytes, "B"));
            _counters.Add(Rate("bytes-received", "Bytes received from the agent", () => ClusterContextTelemetry.ReceivedBytes, "B"));
            _counters.Add(Rate("requests-stolen", "Incoming requests stolen", () => ClusterContextTelemetry.StolenRequests));
            _counters.Add(Rate("requests-mirrored", "Incoming requests mirrored", () => ClusterContextTelemetry.MirroredRequests));
            _counters.Add(Rate("reconnects", "Reconnections", () => ClusterContextTelemetry.ReconnectCount));
        }
    }

    private IncrementingPollingCounter Rate(string name, string display, Func<long> total, string? units = null) =>
        new(name, this, () => total())
        {
            DisplayName = display,
            DisplayRateTimeScale = TimeSpan.FromSeconds(1),
            DisplayUnits = units ?? string.Empty,
        };

    protected override void Dispose(bool disposing)
    {
        lock (_counters)
        {
            foreach (var counter in _counters)
            {
                counter.Dispose();
            }

            _counters.Clear();
        }

        base.Dispose(disposing);
    }
}
