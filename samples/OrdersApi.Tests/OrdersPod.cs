using ClusterContext;
using ClusterContext.Testing;

namespace OrdersApi.Tests;

/// <summary>The session in deployment/orders, started before the tests of a class that uses it and ended after them.</summary>
public sealed class OrdersPod : ClusterContextFixture
{
    protected override void Configure(ClusterContextOptions options) => options.Target = "deployment/orders";
}

