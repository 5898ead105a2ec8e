using System.Net;
using ClusterContext.Protocol.Messages;
using FsCheck;
using FsCheck.Fluent;

namespace ClusterContext.Protocol.Tests.Infrastructure;

/// <summary>Random instances of every message kind, for property tests.</summary>
internal static class MessageGenerators
{
    private static readonly Gen<string> Text = Gen.OneOf(
        ArbMap.Default.GeneratorFor<string>().Where(s => s is not null && !HasLoneSurrogate(s)),
        Gen.Elements("", "/etc/config/app.json", "redis.shop.svc.cluster.local", "ünïcødé ✓ 🚀", "a=b=c"));

    private static readonly Gen<byte[]> Bytes = Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>());

    private static readonly Gen<IPAddress> Address = Gen.OneOf(
        Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), 4).Select(b => new IPAddress(b)),
        Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), 16).Select(b => new IPAddress(b)));

    private static readonly Gen<IPEndPoint> EndPoint =
        from address in Address
        from port in Gen.Choose(0, 65535)
        select new IPEndPoint(address, port);

    private static readonly Gen<long> Int64 = ArbMap.Default.GeneratorFor<long>();
    private static readonly Gen<uint> UInt32 = ArbMap.Default.GeneratorFor<uint>();
    private static readonly Gen<bool> Bool = ArbMap.Default.GeneratorFor<bool>();
    private static readonly Gen<FileType> Type = Gen.Elements(Enum.GetValues<FileType>());

    private static readonly Gen<FileStat> Stat =
        from type in Type
        from size in Int64
        from mode in UInt32
        from ids in UInt32.Two()
        from inode in ArbMap.Default.GeneratorFor<ulong>().Two()
        from links in UInt32
        from times in Int64.Three()
        select new FileStat(type, size, mode, ids.Item1, ids.Item2, inode.Item1, inode.Item2, links, times.Item1, times.Item2, times.Item3);

    private static readonly Gen<IncomingMode> Mode = Gen.Elements(Enum.GetValues<IncomingMode>());

    public static readonly Gen<Message> Any = Gen.OneOf(
        from version in Gen.Choose(0, 65535)
        from min in Gen.Choose(0, 65535)
        from token in Text
        from name in Text
        from window in UInt32
        select (Message)new HelloMessage((ushort)version, (ushort)min, token, name, window),
        from version in Gen.Choose(0, 65535)
        from agent in Text
        from session in Text
        from pid in ArbMap.Default.GeneratorFor<int>()
        from window in UInt32
        select (Message)new WelcomeMessage((ushort)version, agent, session, pid, window),
        Bytes.Select(b => (Message)new PingRequest(b)),
        Bytes.Select(b => (Message)new PingResponse(b)),
        Gen.Constant((Message)new GetEnvironmentRequest()),
        Gen.ListOf(Text.Two()).Select(l => (Message)new EnvironmentResponse(l.Select(p => KeyValuePair.Create(p.Item1, p.Item2)).ToList())),
        Gen.Constant((Message)new GetMountsRequest()),
        Gen.ListOf(from t in Text.Four() from ro in Bool select new MountEntry(t.Item1, t.Item2, t.Item3, t.Item4, ro)).Select(l => (Message)new MountsResponse(l.ToList())),
        from path in Text from follow in Bool select (Message)new StatRequest(path, follow),
        Stat.Select(s => (Message)new StatResponse(s)),
        from path in Text from skip in ArbMap.Default.GeneratorFor<int>() select (Message)new ReadDirectoryRequest(path, skip),
        from entries in Gen.ListOf(from n in Text from t in Type select new DirectoryEntry(n, t))
        from more in Bool
        select (Message)new ReadDirectoryResponse(entries.ToList(), more),
        Text.Select(p => (Message)new ReadLinkRequest(p)),
        Text.Select(t => (Message)new ReadLinkResponse(t)),
        from path in Text from offset in Int64 from length in Int64 select (Message)new OpenReadRequest(path, offset, length),
        Stat.Select(s => (Message)new OpenReadResponse(s)),
        from path in Text from content in Bytes select (Message)new WriteFileRequest(path, content),
        Stat.Select(s => (Message)new WriteFileResponse(s)),
        Gen.Constant((Message)new WatchRequest()),
        Gen.Constant((Message)new WatchResponse()),
        from name in Text from family in Gen.Elements(Enum.GetValues<AddressFamilyFilter>()) select (Message)new ResolveRequest(name, family),
        from names in Text.Two() from addresses in Gen.ListOf(Address) from ttl in UInt32
        select (Message)new ResolveResponse(names.Item1, names.Item2, addresses.ToList(), ttl),
        Gen.Constant((Message)new GetResolverConfigRequest()),
        from servers in Gen.ListOf(Address) from search in Gen.ListOf(Text) from ndots in ArbMap.Default.GeneratorFor<int>()
        select (Message)new ResolverConfigResponse(servers.ToList(), search.ToList(), ndots),
        from host in Text from port in Gen.Choose(0, 65535) from timeout in UInt32 select (Message)new TcpConnectRequest(host, (ushort)port, timeout),
        from local in EndPoint from remote in EndPoint select (Message)new TcpConnectResponse(local, remote),
        Bool.Select(v6 => (Message)new UdpOpenRequest(v6)),
        EndPoint.Select(e => (Message)new UdpOpenResponse(e)),
        from port in Gen.Choose(0, 65535) from mode in Mode from filter in Gen.OneOf(Gen.Constant<HttpFilter?>(null), Filter(3).Select(f => (HttpFilter?)f))
        select (Message)new SubscribeRequest((ushort)port, mode, filter),
        Text.Select(t => (Message)new SubscribeResponse(t)),
        Gen.Choose(0, 65535).Select(p => (Message)new UnsubscribeRequest((ushort)p)),
        Gen.Constant((Message)new UnsubscribeResponse()),
        from port in Gen.Choose(0, 65535) from mode in Mode from ends in EndPoint.Two()
        select (Message)new IncomingConnectionRequest((ushort)port, mode, ends.Item1, ends.Item2),
        Gen.Constant((Message)new IncomingConnectionResponse()));

    public static Arbitrary<Message> Arbitrary => Any.ToArbitrary();

    private static Gen<HttpFilter> Filter(int depth) =>
        depth == 0
            ? from kind in Gen.Elements(HttpFilterKind.Header, HttpFilterKind.Path, HttpFilterKind.Method) from pattern in Text select new HttpFilter(kind, pattern, new List<HttpFilter>())
            : Gen.OneOf(
                Filter(0),
                from kind in Gen.Elements(HttpFilterKind.AllOf, HttpFilterKind.AnyOf)
                from filters in Gen.ListOf(Filter(depth - 1)).Select(l => l.Take(3).ToList())
                select new HttpFilter(kind, "", filters));

    /// <summary>Every kind the codec knows; the property tests check that the generator covers them all.</summary>
    public static IReadOnlyList<MessageKind> AllKinds => Enum.GetValues<MessageKind>();

    private static bool HasLoneSurrogate(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return true;
            }
        }

        return false;
    }
}
