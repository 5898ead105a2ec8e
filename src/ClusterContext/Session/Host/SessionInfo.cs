using System.Globalization;
using System.Net;
using System.Text.Json;
using ClusterContext.Kube;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Session.Host;

/// <summary>
/// What a process joining a session host learns of the session: how to open its own session with the agent, and where
/// it runs. On the control connection also what the agent reported of the target container when it started (its
/// environment and mounts, the same for every process): a joining process needs no round trip to the pod before its
/// <c>Main</c>.
/// </summary>
internal sealed record SessionInfo(string Token, string Description, ResolvedTarget Target, IReadOnlyList<IPEndPoint> SessionEndPoints, int HostPid)
{
    /// <summary>The target container's environment as the agent read it; null when not sent.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? PodEnvironment { get; init; }

    /// <summary>The target container's mounts; null when not sent.</summary>
    public IReadOnlyList<MountEntry>? Mounts { get; init; }

    /// <summary>The target process's id in the pod, as the agent's welcome named it.</summary>
    public int TargetPid { get; init; }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("ok");
        writer.WriteString("token", Token);
        writer.WriteString("description", Description);
        writer.WriteNumber("hostPid", HostPid);
        writer.WriteNumber("targetPid", TargetPid);
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
        if (PodEnvironment is { } environment)
        {
            writer.WriteStartArray("env");
            foreach (var (name, value) in environment)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(name);
                writer.WriteStringValue(value);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        }

        if (Mounts is { } mounts)
        {
            writer.WriteStartArray("mounts");
            foreach (var mount in mounts)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(mount.MountPoint);
                writer.WriteStringValue(mount.Root);
                writer.WriteStringValue(mount.FileSystemType);
                writer.WriteStringValue(mount.Source);
                writer.WriteBooleanValue(mount.ReadOnly);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    public static SessionInfo Read(JsonElement ok) => new(
        ok.String("token") ?? "",
        ok.String("description") ?? "",
        new ResolvedTarget(ok.String("namespace") ?? "", ok.String("pod") ?? "", ok.String("container") ?? "", ok.String("uid") ?? "",
            ContainerPorts: [.. ok.GetProperty("ports").EnumerateArray().Select(p => p.GetInt32())]),
        [.. ok.GetProperty("endpoints").EnumerateArray().Select(e => IPEndPoint.Parse(e.GetString()!))],
        ok.TryGetProperty("hostPid", out var pid) ? pid.GetInt32() : 0)
    {
        TargetPid = ok.TryGetProperty("targetPid", out var target) ? target.GetInt32() : 0,
        PodEnvironment = ok.TryGetProperty("env", out var environment)
            ? [.. environment.EnumerateArray().Select(v => new KeyValuePair<string, string>(v[0].GetString()!, v[1].GetString()!))]
            : null,
        Mounts = ok.TryGetProperty("mounts", out var mounts)
            ? [.. mounts.EnumerateArray().Select(m => new MountEntry(m[0].GetString()!, m[1].GetString()!, m[2].GetString()!, m[3].GetString()!, m[4].GetBoolean()))]
            : null,
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Description} (session host {HostPid})");
}
