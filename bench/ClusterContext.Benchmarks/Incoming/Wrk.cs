using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.Benchmarks.Incoming;

/// <summary>One wrk run's figures: requests per second, the median latency, and wrk's error lines if it had any.</summary>
internal sealed partial record WrkResult(double RequestsPerSecond, double P50Microseconds, string? Problems)
{
    /// <summary>wrk from the client pod (as another pod's load would come) to <paramref name="url"/>.</summary>
    public static async Task<WrkResult> FromClientAsync(SandboxCluster cluster, string url, int seconds, string? header = null)
    {
        var result = await cluster.RunInClientAsync("/usr/bin/wrk", Arguments(url, seconds, header), TimeSpan.FromSeconds(seconds + 30));
        return Parse(result.ExitCode, result.StandardOutput, result.StandardError);
    }

    /// <summary>wrk on this machine (where the local app listens) to <paramref name="url"/>.</summary>
    public static async Task<WrkResult> FromHostAsync(string url, int seconds, string? header = null)
    {
        using var process = Process.Start(new ProcessStartInfo("wrk", Arguments(url, seconds, header)) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return Parse(process.ExitCode, await output, errors);
    }

    // One thread, four keep-alive connections: enough to keep one core busy, and the machine has two.
    private static string[] Arguments(string url, int seconds, string? header) =>
        ["-t1", "-c4", $"-d{seconds}s", "--latency", .. header is null ? Array.Empty<string>() : ["-H", header], url];

    private static WrkResult Parse(int exitCode, string output, string errors)
    {
        var rate = RateLine().Match(output);
        var median = MedianLine().Match(output);
        if (exitCode != 0 || !rate.Success || !median.Success)
        {
            throw new InvalidOperationException($"wrk failed ({exitCode}): {output}{errors}");
        }

        var value = double.Parse(median.Groups[1].Value, CultureInfo.InvariantCulture);
        var microseconds = median.Groups[2].Value switch
        {
            "us" => value,
            "ms" => value * 1000,
            "s" => value * 1_000_000,
            var unit => throw new InvalidOperationException($"wrk latency unit {unit}"),
        };
        var problems = string.Join("; ", ErrorsLine().Matches(output).Select(m => m.Value.Trim()));
        return new WrkResult(double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture), microseconds, problems.Length == 0 ? null : problems);
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RateLine();

    [GeneratedRegex(@"^\s+50%\s+([0-9.]+)(us|ms|s)\s*$", RegexOptions.Multiline)]
    private static partial Regex MedianLine();

    // "Non-2xx or 3xx responses" and "Socket errors" mean some answers were not what the figure is about.
    [GeneratedRegex(@"^\s*(Non-2xx or 3xx responses|Socket errors):.*$", RegexOptions.Multiline)]
    private static partial Regex ErrorsLine();
}
