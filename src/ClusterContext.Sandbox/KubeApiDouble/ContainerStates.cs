using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary>Container states and timestamps as the kubelet reports them in a pod's status.</summary>
public static class ContainerStates
{
    /// <summary>Now, as the API writes times (RFC 3339, seconds, UTC).</summary>
    public static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>A container's id as the runtime reports it (<c>containerd://</c> and 64 hex digits).</summary>
    public static string NewContainerId() => "containerd://" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>The image's digest reference as the runtime resolved it (<c>repository@sha256:…</c>), the same for the same image.</summary>
    public static string ImageId(string image)
    {
        var repository = image.Split('@')[0];
        var tag = repository.LastIndexOf(':');
        if (tag > repository.LastIndexOf('/'))
        {
            repository = repository[..tag];
        }

        return $"{repository}@sha256:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(image)))}";
    }

    /// <summary>Running since now.</summary>
    public static JsonObject Running() => new() { ["running"] = new JsonObject { ["startedAt"] = Now() } };

    /// <summary>Ended now with <paramref name="exitCode"/>; <paramref name="message"/> is the termination message (or last log lines).</summary>
    public static JsonObject Terminated(int exitCode, string? message = null)
    {
        var terminated = new JsonObject { ["exitCode"] = exitCode, ["reason"] = exitCode == 0 ? "Completed" : "Error", ["finishedAt"] = Now() };
        if (message is not null)
        {
            terminated["message"] = message;
        }

        return new JsonObject { ["terminated"] = terminated };
    }
}
