using System.Diagnostics;
using System.Net.Sockets;
using ClusterContext.Testing.Sandbox.FileSystem;
using ClusterContext.Testing.Sandbox.Processes;
using ClusterContext.Testing.Sandbox.Registry;

namespace ClusterContext.Testing.Sandbox;

public sealed partial class PodSandbox
{
    private async Task StartCoreAsync(PodFilePlan plan, CancellationToken cancellationToken)
    {
        _step = "create the temp directory";
        TempPath = Directory.CreateTempSubdirectory($"{SandboxCleanup.TempDirectoryPrefix}{Index}-").FullName;
        _lease.State.TempDirectory = TempPath;
        _lease.Save();
        RootFsPath = Path.Combine(TempPath, "rootfs");
        HostOnlyPath = Path.Combine(TempPath, "host-only.txt");
        await File.WriteAllTextAsync(HostOnlyPath, "host-only: this file is outside the app container's root\n", cancellationToken)
            .ConfigureAwait(false);

        _step = "build the root file system";
        var mounts = await RootFileSystem.BuildAsync(RootFsPath, Namespace, PodName, PodIP, DnsServerIP, cancellationToken).ConfigureAwait(false);

        _step = "write the pod volumes";
        _volumes = await PodVolumes.CreateAsync(plan, Path.Combine(TempPath, "volumes"), RootFsPath, cancellationToken).ConfigureAwait(false);

        await CreateNetworkAsync(cancellationToken).ConfigureAwait(false);

        _step = "start dnsmasq";
        var dns = StartDnsmasq();
        var redis = default(TrackedProcess);
        if (_startRedis)
        {
            _step = "start redis-server";
            redis = StartRedis();
        }

        _step = "start the app container";
        var app = StartApp([.. mounts, .. _volumes.Mounts]);
        AppPid = app.Pid;
        AppOutput = app.Lines;

        _step = "wait for readiness";
        using var readiness = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await Task.WhenAll(
            WaitUntilReadyAsync("wait for dnsmasq", dns, DnsAnswersAsync, readiness),
            redis is null ? Task.CompletedTask : WaitUntilReadyAsync("wait for redis-server", redis, RedisAnswersAsync, readiness),
            WaitUntilReadyAsync("wait for the app container", app, _ => Task.FromResult(AppContainerState()), readiness)).ConfigureAwait(false);
    }

    /// <summary>Polls <paramref name="probe"/> (which returns <see langword="null"/> when ready, else what it saw) until ready, exit or timeout.</summary>
    private async Task WaitUntilReadyAsync(
        string step, TrackedProcess process, Func<CancellationToken, Task<string?>> probe, CancellationTokenSource readiness)
    {
        var stopwatch = Stopwatch.StartNew();
        var lastObservation = "no probe finished";
        try
        {
            while (true)
            {
                if (process.HasExited)
                {
                    var output = await process.ReadOutputAfterExitAsync().ConfigureAwait(false);
                    throw new PodSandboxException(step, $"{process.Name} (pid {process.Pid}) exited before it was ready.", output);
                }

                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(readiness.Token);
                attempt.CancelAfter(TimeSpan.FromMilliseconds(250));
                try
                {
                    var observation = await probe(attempt.Token).ConfigureAwait(false);
                    if (observation is null)
                    {
                        return;
                    }

                    lastObservation = observation;
                }
                catch (Exception e) when (e is SocketException or IOException or InvalidDataException
                    || (e is OperationCanceledException && !readiness.IsCancellationRequested))
                {
                    lastObservation = e.Message;
                }

                if (stopwatch.Elapsed > _readinessTimeout)
                {
                    throw new PodSandboxException(
                        step, $"{process.Name} was not ready after {_readinessTimeout.TotalSeconds:0.#} s; last probe: {lastObservation}", process.Output.ToString());
                }

                await Task.Delay(TimeSpan.FromMilliseconds(5), readiness.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // One failure is enough to fail the start; the other waits need not run to their timeouts.
            await readiness.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }
}
