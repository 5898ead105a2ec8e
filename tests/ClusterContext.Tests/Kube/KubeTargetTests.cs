using ClusterContext.Kube;

namespace ClusterContext.Tests.Kube;

public class KubeTargetTests
{
    [Theory]
    [InlineData("orders-7d9f-abcde", TargetKind.Pod, "orders-7d9f-abcde", null)]
    [InlineData("pod/orders-0", TargetKind.Pod, "orders-0", null)]
    [InlineData("deployment/orders", TargetKind.Deployment, "orders", null)]
    [InlineData("deploy/orders/container/app", TargetKind.Deployment, "orders", "app")]
    [InlineData("sts/db.primary", TargetKind.StatefulSet, "db.primary", null)]
    [InlineData("replicasets/orders-5f6", TargetKind.ReplicaSet, "orders-5f6", null)]
    [InlineData("job/migrate/container/main", TargetKind.Job, "migrate", "main")]
    [InlineData("orders/container/sidecar", TargetKind.Pod, "orders", "sidecar")]
    public void Accepted_forms(string text, object kind, string name, string? container)
    {
        // The Kube client's types are internal: a public test method takes them as object.
        var target = KubeTarget.Parse(text);

        Assert.Equal(new KubeTarget((TargetKind)kind, name, container), target);
        Assert.Equal(target, KubeTarget.Parse(target.ToString()));
    }

    [Theory]
    [InlineData("service/orders", "kind 'service' is not supported")]
    [InlineData("deployment/orders/app", "not understood")]
    [InlineData("deployment/orders/pod/app", "not understood")]
    [InlineData("deployment/Orders", "not a valid object name")]
    [InlineData("", "not a valid object name")]
    [InlineData("pod/orders/container/App_1", "not a valid container name")]
    public void Rejected_forms_say_why(string text, string expected)
    {
        var ex = Assert.Throws<ConfigurationException>(() => KubeTarget.Parse(text));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
