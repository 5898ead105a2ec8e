using System.Globalization;
using ClusterContext.Agent.Incoming.Redirect;
using Microsoft.Extensions.Logging;

// Opens the agent's redirector in this process's network namespace, redirects the given port pairs, then follows
// commands on stdin ("redirect P L", "remove P", "dispose"), answering each on stdout. Exit codes: 0 at end of input,
// 3 when the redirector cannot be opened (its message on stderr).
using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
var logger = loggerFactory.CreateLogger("redirect-probe");

NftRedirector redirector;
try
{
    redirector = NftRedirector.Open(logger);
}
catch (PortRedirectException e)
{
    Console.Error.WriteLine($"{nameof(PortRedirectException)}: {e.Message}");
    return 3;
}

for (var i = 0; i + 1 < args.Length; i += 2)
{
    redirector.Redirect(ushort.Parse(args[i], CultureInfo.InvariantCulture), ushort.Parse(args[i + 1], CultureInfo.InvariantCulture));
}

Console.WriteLine($"ready {redirector.TableName}");
while (Console.ReadLine() is { } line)
{
    var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    switch (words)
    {
        case ["redirect", var pod, var listener]:
            redirector.Redirect(ushort.Parse(pod, CultureInfo.InvariantCulture), ushort.Parse(listener, CultureInfo.InvariantCulture));
            Console.WriteLine("ok");
            break;
        case ["remove", var pod]:
            redirector.Remove(ushort.Parse(pod, CultureInfo.InvariantCulture));
            Console.WriteLine("ok");
            break;
        case ["dispose"]:
            redirector.Dispose();
            Console.WriteLine("ok");
            break;
        default:
            Console.WriteLine($"unknown command: {line}");
            break;
    }
}

redirector.Dispose();
return 0;
