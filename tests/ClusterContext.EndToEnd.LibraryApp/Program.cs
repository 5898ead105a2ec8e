using ClusterContext;

// Starts a session from code, starts it again (which joins the first), uses the pod, then ends the session.
var path = args[0];
var options = ClusterContextSession.LoadOptions();
var first = await ClusterContextSession.StartAsync(options);
var second = await ClusterContextSession.StartAsync(options);
Console.WriteLine($"joined\t{ReferenceEquals(first, second)}");
Console.WriteLine($"env\t{Environment.GetEnvironmentVariable("ORDERS_MODE")}");
Console.WriteLine($"read\t{File.ReadAllText(path)}");
await first.DisposeAsync();
Console.WriteLine($"after-dispose\t{File.Exists(path)}");
