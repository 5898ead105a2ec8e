using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Agent.Dns;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Tests.Dns;

/// <summary>End to end against a fake name server on 127.0.0.1; every other loopback address has nothing listening.</summary>
public sealed class PodResolverTests : IAsyncLifetime
{
    private const string PodResolvConf = """
        nameserver 127.0.0.1
        search shop.svc.cluster.local svc.cluster.local cluster.local
        options ndots:5 timeout:1 attempts:1
        """;

    private FakeDnsServer _server = null!;

    public Task InitializeAsync()
    {
        _server = FakeDnsServer.Start(IPAddress.Loopback)
            .Add("redis.shop.svc.cluster.local", DnsRecordType.A, "10.96.0.21")
            .Add("redis.cluster.local", DnsRecordType.A, "10.96.9.9")
            .Add("users.auth.svc.cluster.local", DnsRecordType.A, "10.96.0.31")
            .Add("api.example.com", DnsRecordType.A, "192.0.2.10")
            .Add("dual.example.com", DnsRecordType.Aaaa, "2001:db8::10")
            .Add("dual.example.com", DnsRecordType.A, "192.0.2.11")
            .Add("www.example.com", DnsRecordType.Cname, "edge.cdn.example.net", ttl: 30)
            .Add("edge.cdn.example.net", DnsRecordType.A, "192.0.2.12", ttl: 120)
            .Add("v4only.example.com", DnsRecordType.A, "192.0.2.13");
        for (var i = 1; i <= 40; i++)
        {
            _server.Add("big.example.com", DnsRecordType.A, $"192.0.2.{100 + i}");
        }

        _server.TruncatedOverUdp.Add("big.example.com");
        _server.Failing.Add("flaky.shop.svc.cluster.local");
        _server.Add("flaky.svc.cluster.local", DnsRecordType.A, "10.96.0.41");
        _server.Failing.Add("broken.example.com");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_short_name_resolves_in_the_pods_namespace_first()
    {
        var answer = await Resolver().ResolveAsync("redis", AddressFamilyFilter.IPv4, default);

        Assert.Equal(new DnsAnswer("redis.shop.svc.cluster.local", "redis.shop.svc.cluster.local", answer.Addresses, 300), answer);
        Assert.Equal([IPAddress.Parse("10.96.0.21")], answer.Addresses);
        Assert.Equal(["redis.shop.svc.cluster.local"], QueriedNames());
    }

    [Fact]
    public async Task The_search_list_is_walked_in_order_before_the_name_itself()
    {
        var answer = await Resolver().ResolveAsync("users.auth", AddressFamilyFilter.IPv4, default);

        Assert.Equal("users.auth.svc.cluster.local", answer.QueriedName);
        Assert.Equal(["users.auth.shop.svc.cluster.local", "users.auth.svc.cluster.local"], QueriedNames());
    }

    [Fact]
    public async Task Below_ndots_the_name_itself_comes_last()
    {
        var answer = await Resolver().ResolveAsync("api.example.com", AddressFamilyFilter.IPv4, default);

        Assert.Equal("api.example.com", answer.QueriedName);
        Assert.Equal(
            ["api.example.com.shop.svc.cluster.local", "api.example.com.svc.cluster.local", "api.example.com.cluster.local", "api.example.com"],
            QueriedNames());
    }

    [Fact]
    public async Task At_ndots_the_name_itself_comes_first()
    {
        var answer = await Resolver(PodResolvConf.Replace("ndots:5", "ndots:1", StringComparison.Ordinal))
            .ResolveAsync("api.example.com", AddressFamilyFilter.IPv4, default);

        Assert.Equal("api.example.com", answer.QueriedName);
        Assert.Equal(["api.example.com"], QueriedNames());
    }

    [Fact]
    public async Task An_absolute_name_is_asked_once_and_only_as_it_is()
    {
        var answer = await Resolver().ResolveAsync("redis.cluster.local.", AddressFamilyFilter.IPv4, default);

        Assert.Equal("redis.cluster.local", answer.QueriedName);
        Assert.Equal([IPAddress.Parse("10.96.9.9")], answer.Addresses);
        Assert.Equal(["redis.cluster.local"], QueriedNames());
    }

    [Fact]
    public async Task Any_asks_for_both_families_and_lists_IPv4_first()
    {
        var answer = await Resolver().ResolveAsync("dual.example.com.", AddressFamilyFilter.Any, default);

        Assert.Equal([IPAddress.Parse("192.0.2.11"), IPAddress.Parse("2001:db8::10")], answer.Addresses);
        Assert.Equal([DnsRecordType.A, DnsRecordType.Aaaa], _server.Queries.Select(q => q.Type).Order());
        Assert.All(_server.Queries, q => Assert.Equal(0x0100, q.Flags));
    }

    [Fact]
    public async Task Any_answers_when_only_one_family_has_records()
    {
        var answer = await Resolver().ResolveAsync("v4only.example.com.", AddressFamilyFilter.Any, default);

        Assert.Equal([IPAddress.Parse("192.0.2.13")], answer.Addresses);
    }

    [Fact]
    public async Task A_cname_chain_gives_the_canonical_name_and_the_smallest_ttl()
    {
        var answer = await Resolver().ResolveAsync("www.example.com.", AddressFamilyFilter.IPv4, default);

        Assert.Equal(new DnsAnswer("www.example.com", "edge.cdn.example.net", answer.Addresses, 30), answer);
        Assert.Equal([IPAddress.Parse("192.0.2.12")], answer.Addresses);
    }

    [Fact]
    public async Task A_truncated_answer_is_asked_again_over_tcp()
    {
        var answer = await Resolver().ResolveAsync("big.example.com.", AddressFamilyFilter.IPv4, default);

        Assert.Equal(40, answer.Addresses.Count);
        Assert.Equal([false, true], _server.Queries.Select(q => q.OverTcp));
    }

    [Fact]
    public async Task The_hosts_file_comes_before_dns()
    {
        var resolver = Resolver(hosts: "10.9.9.9 redis-cache.local redis\n::1 localhost\n");

        var redis = await resolver.ResolveAsync("REDIS", AddressFamilyFilter.Any, default);
        var localhost = await resolver.ResolveAsync("localhost", AddressFamilyFilter.Any, default);

        Assert.Equal(new DnsAnswer("REDIS", "redis-cache.local", redis.Addresses, 0), redis);
        Assert.Equal([IPAddress.Parse("10.9.9.9")], redis.Addresses);
        Assert.Equal([IPAddress.IPv6Loopback], localhost.Addresses);
        Assert.Empty(_server.Queries);
    }

    [Fact]
    public async Task A_hosts_entry_of_the_other_family_falls_through_to_dns()
    {
        var answer = await Resolver(hosts: "fd00::21 redis").ResolveAsync("redis", AddressFamilyFilter.IPv4, default);

        Assert.Equal([IPAddress.Parse("10.96.0.21")], answer.Addresses);
    }

    [Theory]
    [InlineData("localhost", AddressFamilyFilter.Any, new[] { "127.0.0.1" })]
    [InlineData("LocalHost", AddressFamilyFilter.IPv6, new[] { "::1" })]
    [InlineData("10.1.2.3", AddressFamilyFilter.IPv4, new[] { "10.1.2.3" })]
    [InlineData("fd00::1", AddressFamilyFilter.Any, new[] { "fd00::1" })]
    public async Task Localhost_and_address_literals_need_no_name_server(string name, object family, string[] expected)
    {
        // The protocol's types are internal: a public test method takes them as object.
        var answer = await Resolver(hosts: "127.0.0.1 localhost\n::1 localhost\n").ResolveAsync(name, (AddressFamilyFilter)family, default);

        Assert.Equal(expected, answer.Addresses.Select(a => a.ToString()));
        Assert.Empty(_server.Queries);
    }

    [Fact]
    public async Task Without_a_hosts_line_localhost_is_asked_of_dns_as_glibc_does()
    {
        var ex = await Assert.ThrowsAsync<RemoteException>(() => Resolver().ResolveAsync("localhost.", AddressFamilyFilter.Any, default));

        Assert.Equal(ErrorCode.NameNotFound, ex.Code);
        Assert.Equal(["localhost", "localhost"], QueriedNames());
    }

    [Fact]
    public async Task An_address_literal_of_the_other_family_is_not_found()
    {
        var ex = await Assert.ThrowsAsync<RemoteException>(() => Resolver().ResolveAsync("10.1.2.3", AddressFamilyFilter.IPv6, default));

        Assert.Equal(ErrorCode.NameNotFound, ex.Code);
    }

    [Fact]
    public async Task An_unknown_name_is_not_found_after_every_candidate()
    {
        var ex = await Assert.ThrowsAsync<RemoteException>(() => Resolver().ResolveAsync("nothing", AddressFamilyFilter.Any, default));

        Assert.Equal(ErrorCode.NameNotFound, ex.Code);
        Assert.Equal(
            "'nothing' was not found (tried nothing.shop.svc.cluster.local, nothing.svc.cluster.local, nothing.cluster.local, nothing).",
            ex.Message);
        Assert.Equal(8, _server.Queries.Count);
    }

    [Fact]
    public async Task A_name_without_records_of_the_family_is_not_found()
    {
        var ex = await Assert.ThrowsAsync<RemoteException>(
            () => Resolver().ResolveAsync("v4only.example.com.", AddressFamilyFilter.IPv6, default));

        Assert.Equal(ErrorCode.NameNotFound, ex.Code);
        Assert.Contains("has no AAAA records", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Servfail_moves_on_to_the_next_search_domain()
    {
        var answer = await Resolver().ResolveAsync("flaky", AddressFamilyFilter.IPv4, default);

        Assert.Equal("flaky.svc.cluster.local", answer.QueriedName);
    }

    [Fact]
    public async Task Servfail_everywhere_is_a_resolution_failure()
    {
        var ex = await Assert.ThrowsAsync<RemoteException>(
            () => Resolver().ResolveAsync("broken.example.com.", AddressFamilyFilter.IPv4, default));

        Assert.Equal(ErrorCode.NameResolutionFailed, ex.Code);
        Assert.Contains("SERVFAIL", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_search_candidate_refused_ends_the_search_list_but_the_name_is_still_tried_as_it_is()
    {
        // glibc (res_search): REFUSED for a candidate stops the search domains, then the name itself is queried.
        _server.Refusing.Add("db.internal.shop.svc.cluster.local");
        _server.Add("db.internal.svc.cluster.local", DnsRecordType.A, "10.96.0.99");
        _server.Add("db.internal", DnsRecordType.A, "192.0.2.50");

        var answer = await Resolver().ResolveAsync("db.internal", AddressFamilyFilter.IPv4, default);

        Assert.Equal([IPAddress.Parse("192.0.2.50")], answer.Addresses);
        Assert.Equal(["db.internal.shop.svc.cluster.local", "db.internal"], QueriedNames());
    }

    [Fact]
    public async Task A_name_refused_everywhere_fails_saying_so_after_trying_it_as_it_is()
    {
        _server.Refusing.Add("gone.shop.svc.cluster.local");
        _server.Refusing.Add("gone");

        var ex = await Assert.ThrowsAsync<RemoteException>(() => Resolver().ResolveAsync("gone", AddressFamilyFilter.IPv4, default));

        Assert.Equal(ErrorCode.NameResolutionFailed, ex.Code);
        Assert.Equal("Cannot resolve 'gone': name servers 127.0.0.1 refused the query (tried gone.shop.svc.cluster.local, gone).", ex.Message);
    }

    [Fact]
    public async Task A_refusing_name_server_is_skipped_for_the_next()
    {
        // 127.0.0.2 has nothing on the port: the ICMP error fails the first server at once.
        var conf = PodResolvConf.Replace("nameserver 127.0.0.1", "nameserver 127.0.0.2\nnameserver 127.0.0.1", StringComparison.Ordinal);
        var stopwatch = Stopwatch.StartNew();

        var answer = await Resolver(conf).ResolveAsync("redis", AddressFamilyFilter.IPv4, default);

        Assert.Equal([IPAddress.Parse("10.96.0.21")], answer.Addresses);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task A_silent_name_server_fails_within_the_configured_timeout()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var resolver = Resolver(port: ((IPEndPoint)silent.LocalEndPoint!).Port);
        var stopwatch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RemoteException>(() => resolver.ResolveAsync("redis", AddressFamilyFilter.Any, default));

        Assert.Equal(ErrorCode.NameResolutionFailed, ex.Code);
        // As glibc: a timeout ends the search list, but the name is still tried as it is.
        Assert.Equal(
            "Cannot resolve 'redis': name servers 127.0.0.1 did not answer (tried redis.shop.svc.cluster.local, redis).",
            ex.Message);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(3.5));
    }

    [Fact]
    public async Task Cancellation_stops_waiting_for_a_name_server()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var resolver = Resolver(PodResolvConf.Replace("timeout:1", "timeout:30", StringComparison.Ordinal), port: ((IPEndPoint)silent.LocalEndPoint!).Port);
        var stopwatch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => resolver.ResolveAsync("redis", AddressFamilyFilter.Any, cancel.Token));

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Files_are_read_again_for_every_resolution()
    {
        var hosts = "";
        var resolver = new PodResolver(() => ResolverConfig.Parse(PodResolvConf), () => HostsFile.Parse(hosts), port: _server.Port);

        var before = await resolver.ResolveAsync("redis", AddressFamilyFilter.IPv4, default);
        hosts = "10.9.9.9 redis";
        var after = await resolver.ResolveAsync("redis", AddressFamilyFilter.IPv4, default);

        Assert.Equal([IPAddress.Parse("10.96.0.21")], before.Addresses);
        Assert.Equal([IPAddress.Parse("10.9.9.9")], after.Addresses);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("a..b")]
    [InlineData(".redis")]
    [InlineData("redis..")]
    [InlineData("has space")]
    [InlineData("ünicode.example")]
    [InlineData("back\\slash")]
    public async Task Invalid_names_are_rejected(string name)
    {
        var ex = await Assert.ThrowsAsync<RemoteException>(() => Resolver().ResolveAsync(name, AddressFamilyFilter.Any, default));

        Assert.Equal(ErrorCode.InvalidArgument, ex.Code);
        Assert.Empty(_server.Queries);
    }

    [Fact]
    public async Task Names_and_labels_longer_than_dns_allows_are_rejected()
    {
        var resolver = Resolver();
        var label63 = new string('a', 63);
        var name253 = string.Join('.', label63, label63, label63, new string('b', 61));

        Assert.Equal(ErrorCode.NameNotFound, (await Assert.ThrowsAsync<RemoteException>(
            () => resolver.ResolveAsync(name253 + ".", AddressFamilyFilter.IPv4, default))).Code);
        Assert.Equal(ErrorCode.InvalidArgument, (await Assert.ThrowsAsync<RemoteException>(
            () => resolver.ResolveAsync(name253 + "b", AddressFamilyFilter.IPv4, default))).Code);
        Assert.Equal(ErrorCode.InvalidArgument, (await Assert.ThrowsAsync<RemoteException>(
            () => resolver.ResolveAsync(label63 + "a.example", AddressFamilyFilter.IPv4, default))).Code);
    }

    private PodResolver Resolver(string resolvConf = PodResolvConf, string hosts = "", int? port = null) =>
        new(() => ResolverConfig.Parse(resolvConf), () => HostsFile.Parse(hosts), port: port ?? _server.Port);

    private List<string> QueriedNames() => [.. _server.Queries.Select(q => q.Name)];
}
