using ClusterContext.Agent.Dns;
using ClusterContext.Agent.Files;
using ClusterContext.Agent.Incoming;
using ClusterContext.Agent.Incoming.Coordination;
using ClusterContext.Agent.Network;
using ClusterContext.Agent.Target;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;

namespace ClusterContext.Agent.Hosting;

/// <summary>Carries out each request in the target's context. Shared by all sessions; per-session state lives in <see cref="IncomingSession"/>.</summary>
internal sealed class AgentRequestHandler(TargetProcess target, ContainerFileSystem files, PodResolver resolver, ContainerResolverFiles resolverFiles, PodCoordinator incoming)
{
    /// <summary>Largest directory listing sent in one response; bigger directories are paged.</summary>
    private const int MaxDirectoryResponseBytes = 512 * 1024;

    public PodCoordinator Incoming => incoming;

    public Task HandleAsync(IncomingRequest request, IncomingSession session)
    {
        switch (request.Message)
        {
            case PingRequest ping:
                request.Respond(new PingResponse(ping.Payload));
                return Task.CompletedTask;
            case GetEnvironmentRequest:
                request.Respond(new EnvironmentResponse(target.ReadEnvironment()));
                return Task.CompletedTask;
            case GetMountsRequest:
                request.Respond(new MountsResponse(target.ReadMounts()));
                return Task.CompletedTask;
            case StatRequest stat:
                request.Respond(new StatResponse(files.Stat(stat.Path, stat.FollowSymlinks)));
                return Task.CompletedTask;
            case ReadDirectoryRequest list:
                request.Respond(files.ReadDirectory(list.Path, Math.Max(0, list.Skip), MaxDirectoryResponseBytes));
                return Task.CompletedTask;
            case ReadLinkRequest link:
                request.Respond(new ReadLinkResponse(files.ReadLink(link.Path)));
                return Task.CompletedTask;
            case WriteFileRequest write:
                request.Respond(new WriteFileResponse(files.WriteFile(write.Path, write.Content)));
                return Task.CompletedTask;
            case WatchRequest:
                return WatchRelay.RunAsync(request, files);
            case OpenReadRequest open:
                return FileReadPump.RunAsync(request, open, files);
            case ResolveRequest resolve:
                return ResolveAsync(request, resolve);
            case GetResolverConfigRequest:
                var config = resolverFiles.ReadConfig();
                request.Respond(new ResolverConfigResponse(config.NameServers, config.SearchDomains, config.Ndots));
                return Task.CompletedTask;
            case TcpConnectRequest connect:
                return TcpRelay.RunAsync(request, connect, resolver);
            case UdpOpenRequest udp:
                return UdpRelay.RunAsync(request, udp);
            case SubscribeRequest subscribe:
                return SubscribeAsync(request, session, subscribe);
            case UnsubscribeRequest unsubscribe:
                return UnsubscribeAsync(request, session, unsubscribe);
            default:
                throw new RemoteException(ErrorCode.UnknownRequest, $"This agent does not serve {request.Message.Kind} requests; update the agent image.");
        }
    }

    private async Task SubscribeAsync(IncomingRequest request, IncomingSession session, SubscribeRequest subscribe) =>
        request.Respond(await incoming.SubscribeAsync(session, subscribe, request.CancellationToken).ConfigureAwait(false));

    private async Task UnsubscribeAsync(IncomingRequest request, IncomingSession session, UnsubscribeRequest unsubscribe)
    {
        await incoming.UnsubscribeAsync(session, unsubscribe.Port).ConfigureAwait(false);
        request.Respond(new UnsubscribeResponse());
    }

    private async Task ResolveAsync(IncomingRequest request, ResolveRequest resolve)
    {
        var answer = await resolver.ResolveAsync(resolve.Name, resolve.Family, request.CancellationToken).ConfigureAwait(false);
        request.Respond(new ResolveResponse(answer.QueriedName, answer.CanonicalName, answer.Addresses, answer.TtlSeconds));
    }
}
