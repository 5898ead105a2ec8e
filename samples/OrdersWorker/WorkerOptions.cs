namespace OrdersWorker;

/// <summary>The <c>Worker</c> section of appsettings.json.</summary>
internal sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Time between two rounds; default 5 seconds.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);
}
