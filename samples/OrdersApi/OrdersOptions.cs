namespace OrdersApi;

/// <summary>The <c>Orders</c> section: in the pod, from the ConfigMap's appsettings.json.</summary>
internal sealed class OrdersOptions
{
    public const string Section = "Orders";

    /// <summary>Where the options came from (<c>configmap</c> in the pod; <c>local</c> in appsettings.json).</summary>
    public string? Source { get; set; }
}
