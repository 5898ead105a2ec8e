using ClusterContext.Session.Incoming;

namespace ClusterContext.Tests.Session.Incoming;

public class IncomingPortMapTests
{
    private static readonly Dictionary<int, int> None = [];

    private static IncomingPortMap Map(Action<IncomingSettings>? configure = null, params int[] containerPorts)
    {
        var settings = new IncomingSettings { Mode = IncomingTrafficMode.Steal };
        configure?.Invoke(settings);
        return new IncomingPortMap(settings, containerPorts, "app");
    }

    [Fact]
    public void PortMapping_wins_and_says_nothing()
    {
        var decision = Map(s => s.PortMapping[5000] = 8080, 9000).Decide(5000, [], None);
        Assert.Equal(new IncomingPortMap.Decision(8080, null, null), decision);
    }

    [Fact]
    public void The_apps_only_port_takes_the_containers_only_port_and_says_so()
    {
        var decision = Map(null, 8080).Decide(5000, [], None);
        Assert.Equal(8080, decision.PodPort);
        Assert.Contains("5000", decision.Notice, StringComparison.Ordinal);
        Assert.Contains("containerPort, 8080", decision.Notice, StringComparison.Ordinal);
        Assert.Contains("network.incoming.portMapping", decision.Notice, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new int[0], new[] { 8080 })] // a second listening port of the app
    [InlineData(new[] { 8080, 8443 }, new int[0])] // two declared container ports
    [InlineData(new int[0], new int[0])] // none declared
    public void Otherwise_the_same_number(int[] containerPorts, int[] otherListening)
    {
        var decision = Map(null, containerPorts).Decide(5000, otherListening, None);
        Assert.Equal(new IncomingPortMap.Decision(5000, null, null), decision);
    }

    [Fact]
    public void A_port_the_mapping_does_not_name_is_subscribed_as_it_is_and_said_when_the_mapping_names_none_of_the_apps_ports()
    {
        // dotnet run took the port from the launch profile (5205), while the developer mapped 5000.
        var unnamed = Map(s => s.PortMapping[5000] = 8080, 8080).Decide(5205, [], None);
        Assert.Equal(5205, unnamed.PodPort);
        Assert.Contains("port 5205, which network.incoming.portMapping (5000 -> 8080) does not name", unnamed.Notice, StringComparison.Ordinal);
        Assert.Contains("launchSettings.json", unnamed.Notice, StringComparison.Ordinal);

        // The app listens on the mapped port too: its other port is simply not mapped, nothing to say.
        Assert.Equal(new IncomingPortMap.Decision(5205, null, null), Map(s => s.PortMapping[5000] = 8080, 8080).Decide(5205, [5000], None));
    }

    [Fact]
    public void The_same_number_as_the_containers_only_port_needs_no_notice()
    {
        Assert.Equal(new IncomingPortMap.Decision(8080, null, null), Map(null, 8080).Decide(8080, [], None));
    }

    [Fact]
    public void A_container_port_that_portMapping_already_targets_is_not_taken_again()
    {
        Assert.Equal(5001, Map(s => s.PortMapping[5000] = 8080, 8080).Decide(5001, [], None).PodPort);
        Assert.Equal(5001, Map(null, 8080).Decide(5001, [], new Dictionary<int, int> { [8080] = 5000 }).PodPort);
    }

    [Fact]
    public void IgnorePorts_and_ports_apply_to_the_pod_port_after_mapping()
    {
        var ignored = Map(s => { s.PortMapping[5000] = 9090; s.IgnorePorts = [9090]; }).Decide(5000, [], None);
        Assert.Null(ignored.PodPort);
        Assert.Contains("pod port 9090 is in network.incoming.ignorePorts", ignored.Skipped, StringComparison.Ordinal);

        var listed = Map(s => { s.PortMapping[5000] = 8080; s.Ports = [8080]; }).Decide(5000, [], None);
        Assert.Equal(8080, listed.PodPort);

        var unlisted = Map(s => s.Ports = [8080]).Decide(5001, [], None);
        Assert.Null(unlisted.PodPort);
        Assert.Contains("pod port 5001 is not in network.incoming.ports (8080)", unlisted.Skipped, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_local_ports_never_receive_one_pod_port()
    {
        var decision = Map(s => { s.PortMapping[5000] = 8080; s.PortMapping[5001] = 8080; }).Decide(5001, [5000], new Dictionary<int, int> { [8080] = 5000 });
        Assert.Null(decision.PodPort);
        Assert.Contains("pod port 8080 already goes to local port 5000", decision.Skipped, StringComparison.Ordinal);
    }
}
