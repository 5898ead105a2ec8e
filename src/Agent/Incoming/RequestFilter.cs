using System.Text.RegularExpressions;
using ClusterContext.Agent.Incoming.Http;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Incoming;

/// <summary>
/// An <see cref="HttpFilter"/> with its regular expressions compiled once, when the session subscribes. Header
/// patterns see each header as <c>name: value</c> with the name lower-cased (names are case-insensitive, values are
/// not), path patterns the path and query, method patterns the method. A match that runs past its time limit
/// counts as no match, so a pathological pattern costs its own session requests, never the pod's clients.
/// </summary>
internal sealed class RequestFilter
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(50);

    private readonly HttpFilterKind _kind;
    private readonly Regex? _regex;
    private readonly RequestFilter[] _filters;

    private RequestFilter(HttpFilterKind kind, Regex? regex, RequestFilter[] filters)
    {
        _kind = kind;
        _regex = regex;
        _filters = filters;
    }

    /// <summary>The filter as the session sent it.</summary>
    public HttpFilter Source { get; private init; } = null!;

    /// <summary>Compiles <paramref name="filter"/>; an invalid pattern is the session's error, named.</summary>
    public static RequestFilter Compile(HttpFilter filter)
    {
        Regex? regex = null;
        if (filter.Kind is HttpFilterKind.Header or HttpFilterKind.Path or HttpFilterKind.Method)
        {
            try
            {
                regex = new Regex(filter.Pattern, RegexOptions.CultureInvariant, MatchTimeout);
            }
            catch (ArgumentException ex)
            {
                throw new RemoteException(ErrorCode.InvalidArgument, $"The HTTP filter's {filter.Kind} pattern '{filter.Pattern}' is not a valid regular expression: {ex.Message}");
            }
        }

        return new RequestFilter(filter.Kind, regex, [.. filter.Filters.Select(Compile)]) { Source = filter };
    }

    public bool Matches(HttpRequestHead request)
    {
        try
        {
            return MatchesCore(request);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private bool MatchesCore(HttpRequestHead request)
    {
        switch (_kind)
        {
            case HttpFilterKind.Header:
                foreach (var (name, value) in request.Headers)
                {
                    if (_regex!.IsMatch($"{name}: {value}"))
                    {
                        return true;
                    }
                }

                return false;
            case HttpFilterKind.Path:
                return _regex!.IsMatch(request.PathAndQuery);
            case HttpFilterKind.Method:
                return _regex!.IsMatch(request.Method);
            case HttpFilterKind.AllOf:
                return _filters.All(f => f.MatchesCore(request));
            case HttpFilterKind.AnyOf:
                return _filters.Any(f => f.MatchesCore(request));
            default:
                return false;
        }
    }
}
