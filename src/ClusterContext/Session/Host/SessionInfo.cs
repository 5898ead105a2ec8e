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

    /// <summary>The host's own start-up steps (UTC ticks, text) when it traces them (<c>CLUSTERCONTEXT_TRACE_STARTUP</c> of the process that started it); else empty.</summary>
    public IReadOnlyList<(long Ticks, string Step)> HostSteps { get; init; } = [];

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

        if (HostSteps.Count > 0)
        {
            writer.WriteStartArray("startup");
            foreach (var (ticks, step) in HostSteps)
            {
                writer.WriteStartArray();
                writer.WriteNumberValue(ticks);
                writer.WriteStringValue(step);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <remarks>
    /// Plain loops, no LINQ over <see cref="JsonElement"/>: a joining process reads this before its <c>Main</c>, and
    /// generic code over a value type of another assembly is compiled at run time, not ahead of it.
    /// </remarks>
    public static SessionInfo Read(JsonElement ok)
    {
        var ports = new List<int>();
        foreach (var port in ok.GetProperty("ports").EnumerateArray())
        {
            ports.Add(port.GetInt32());
        }

        var endPoints = new List<IPEndPoint>();
        foreach (var endPoint in ok.GetProperty("endpoints").EnumerateArray())
        {
            endPoints.Add(IPEndPoint.Parse(endPoint.GetString()!));
        }

        List<KeyValuePair<string, string>>? environment = null;
        if (ok.TryGetProperty("env", out var variables))
        {
            environment = new List<KeyValuePair<string, string>>(variables.GetArrayLength());
            foreach (var variable in variables.EnumerateArray())
            {
                environment.Add(new KeyValuePair<string, string>(variable[0].GetString()!, variable[1].GetString()!));
            }
        }

        List<MountEntry>? mountEntries = null;
        if (ok.TryGetProperty("mounts", out var mounts))
        {
            mountEntries = new List<MountEntry>(mounts.GetArrayLength());
            foreach (var m in mounts.EnumerateArray())
            {
                mountEntries.Add(new MountEntry(m[0].GetString()!, m[1].GetString()!, m[2].GetString()!, m[3].GetString()!, m[4].GetBoolean()));
            }
        }

        List<(long Ticks, string Step)>? hostSteps = null;
        if (ok.TryGetProperty("startup", out var startup))
        {
            hostSteps = new List<(long Ticks, string Step)>(startup.GetArrayLength());
            foreach (var step in startup.EnumerateArray())
            {
                hostSteps.Add((step[0].GetInt64(), step[1].GetString()!));
            }
        }

        return new SessionInfo(
            ok.String("token") ?? "",
            ok.String("description") ?? "",
            new ResolvedTarget(ok.String("namespace") ?? "", ok.String("pod") ?? "", ok.String("container") ?? "", ok.String("uid") ?? "", ContainerPorts: ports),
            endPoints,
            ok.TryGetProperty("hostPid", out var pid) ? pid.GetInt32() : 0)
        {
            TargetPid = ok.TryGetProperty("targetPid", out var target) ? target.GetInt32() : 0,
            PodEnvironment = environment,
            Mounts = mountEntries,
            HostSteps = hostSteps ?? [],
        };
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Description} (session host {HostPid})");
}
