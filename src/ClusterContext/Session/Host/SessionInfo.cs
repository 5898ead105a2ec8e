using System.Globalization;
using System.Net;
using System.Text.Json;
using ClusterContext.Kube;

namespace ClusterContext.Session.Host;

/// <summary>What a process joining a session host learns of the session: how to open its own session with the agent, and where it runs.</summary>
internal sealed record SessionInfo(string Token, string Description, ResolvedTarget Target, IReadOnlyList<IPEndPoint> SessionEndPoints, int HostPid)
{
    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("ok");
        writer.WriteString("token", Token);
        writer.WriteString("description", Description);
        writer.WriteNumber("hostPid", HostPid);
        writer.WriteString("namespace", Target.Namespace);
        writer.WriteString("pod", Target.Pod);
        writer.WriteString("container", Target.Container);
        writer.WriteString("uid", Target.Uid);
        writer.WriteStartArray("ports");
        foreach (var port in Target.ContainerPorts ?? [])
        {
            writer.WriteNumberValue(port);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("endpoints");
        foreach (var endPoint in SessionEndPoints)
        {
            writer.WriteStringValue(endPoint.ToString());
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public static SessionInfo Read(JsonElement ok) => new(
        ok.String("token") ?? "",
        ok.String("description") ?? "",
        new ResolvedTarget(ok.String("namespace") ?? "", ok.String("pod") ?? "", ok.String("container") ?? "", ok.String("uid") ?? "",
            ContainerPorts: [.. ok.GetProperty("ports").EnumerateArray().Select(p => p.GetInt32())]),
        [.. ok.GetProperty("endpoints").EnumerateArray().Select(e => IPEndPoint.Parse(e.GetString()!))],
        ok.TryGetProperty("hostPid", out var pid) ? pid.GetInt32() : 0);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Description} (session host {HostPid})");
}
