using ClusterContext.Benchmarks.Agent;
using ClusterContext.Benchmarks.Context;
using ClusterContext.Benchmarks.Footprint;
using ClusterContext.Benchmarks.Incoming;
using ClusterContext.Benchmarks.Kube;
using ClusterContext.Benchmarks.Latency;
using ClusterContext.Benchmarks.Patching;
using ClusterContext.Benchmarks.Session;
using ClusterContext.Benchmarks.Shim;
using ClusterContext.Benchmarks.Throughput;

switch (args.FirstOrDefault())
{
    case "throughput":
        await ThroughputBenchmark.RunAsync(args[1..]);
        return 0;
    case "kube":
        await PortForwardBenchmark.RunAsync(args[1..]);
        return 0;
    case "patching":
        return await PatchingBenchmark.RunAsync();
    case "incoming":
        return await IncomingBenchmark.RunAsync(args[1..]);
    case "context":
        return await ContextBenchmark.RunAsync();
    case "session":
        return await SessionHostBenchmark.RunAsync(args[1..]);
    case "shim":
        return await ShimBenchmark.RunAsync(args[1..]);
    case "agent":
        return await AgentFootprintBenchmark.RunAsync(args[1..]);
    case "footprint":
        return await HookFootprintBenchmark.RunAsync(args[1..]);
    case "latency":
        return await PingPongBenchmark.RunAsync(args[1..]);
    default:
        Console.Error.WriteLine("usage: ClusterContext.Benchmarks throughput [GiB] [rounds] | kube [MiB] [rounds] | patching | context | incoming [rounds] [seconds] | session [rounds] | shim [rounds] | latency [rounds] [exchanges] | agent [starts] [sessions] | footprint [idle seconds]");
        return 2;
}
