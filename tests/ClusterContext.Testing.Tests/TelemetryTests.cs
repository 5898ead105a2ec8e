using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Diagnostics.Tracing;

namespace ClusterContext.Testing.Tests;

/// <summary>The session's Meter, ActivitySource and EventSource, seen by listeners as OpenTelemetry and dotnet-counters see them.</summary>
[Collection(OrdersPod.Name)]
public sealed class TelemetryTests(OrdersPodFixture fixture)
{
    [Fact]
    public void TheSessionStartIsTraced()
    {
        Assert.True(fixture.IsConnected);
        var start = Assert.Single(TelemetryRecorder.Activities, a => a.OperationName == "clustercontext session.start");
        Assert.Equal("deployment/orders", start.GetTagItem("clustercontext.target"));
        Assert.Equal(true, start.GetTagItem("clustercontext.connected"));
    }

    [Fact]
    public void RemoteOperationsAndBytesAreMeasured()
    {
        var measurements = new ConcurrentQueue<(string Name, long Value, string? Kind)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "ClusterContext")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? kind = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "kind")
                {
                    kind = tag.Value as string;
                }
            }

            measurements.Enqueue((instrument.Name, value, kind));
        });
        listener.Start();

        var path = $"/etc/orders/appsettings.json";
        Assert.Contains("configmap", File.ReadAllText(path), StringComparison.Ordinal);
        _ = System.Net.Dns.GetHostAddresses("redis.shop.svc.cluster.local");

        var activity = TelemetryRecorder.Activities.LastOrDefault(a => a.OperationName == "clustercontext resolve");
        Assert.NotNull(activity);
        Assert.Equal("resolve", activity.GetTagItem("clustercontext.operation"));
        Assert.Contains(measurements, m => m.Name == "clustercontext.remote.operations" && m.Kind == "resolve");
        Assert.Contains(measurements, m => m.Name == "clustercontext.bytes.sent" && m.Value > 0);
        Assert.Contains(measurements, m => m.Name == "clustercontext.bytes.received" && m.Value > 0);
    }

    [Fact]
    public async Task TheEventSourcePublishesTheCounters()
    {
        using var listener = new CounterListener();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        // The counters of one interval arrive one event after the other: all three are waited for.
        while (!listener.Seen("sessions-active", out var active) || active < 1 || !listener.Seen("remote-operations", out _) || !listener.Seen("bytes-received", out _))
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not all of sessions-active >= 1, remote-operations and bytes-received from the ClusterContext EventSource; seen: {listener.Names}");
            _ = System.Net.Dns.GetHostAddresses("redis.shop.svc.cluster.local");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private sealed class CounterListener : EventListener
    {
        private readonly ConcurrentDictionary<string, double> _values = new();

        public string Names => string.Join(", ", _values.Keys);

        public bool Seen(string name, out double value) => _values.TryGetValue(name, out value);

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "ClusterContext")
            {
                EnableEvents(source, EventLevel.Verbose, EventKeywords.All, new Dictionary<string, string?> { ["EventCounterIntervalSec"] = "0.1" });
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName != "EventCounters" || e.Payload?[0] is not IDictionary<string, object> payload)
            {
                return;
            }

            var name = (string)payload["Name"];
            _values[name] = payload.TryGetValue("Mean", out var mean) ? Convert.ToDouble(mean, System.Globalization.CultureInfo.InvariantCulture)
                : Convert.ToDouble(payload["Increment"], System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
