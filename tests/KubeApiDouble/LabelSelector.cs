using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary>The equality-based label selectors of the API (<c>a=b,c!=d,e,!f</c>; <c>==</c> as <c>=</c>).</summary>
public sealed class LabelSelector
{
    private readonly List<(string Key, string? Value, bool Negated)> _terms;

    private LabelSelector(List<(string, string?, bool)> terms) => _terms = terms;

    /// <summary>Parses a selector; an empty one matches everything.</summary>
    public static LabelSelector Parse(string text)
    {
        var terms = new List<(string, string?, bool)>();
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw.Split("!=", 2) is [var nk, var nv])
            {
                terms.Add((nk.Trim(), nv.Trim(), true));
            }
            else if (raw.Replace("==", "=", StringComparison.Ordinal).Split('=', 2) is [var k, var v])
            {
                terms.Add((k.Trim(), v.Trim(), false));
            }
            else if (raw.StartsWith('!'))
            {
                terms.Add((raw[1..].Trim(), null, true));
            }
            else
            {
                terms.Add((raw, null, false));
            }
        }

        return new LabelSelector(terms);
    }

    /// <summary>Whether <paramref name="labels"/> satisfy every term.</summary>
    public bool Matches(JsonObject? labels) => _terms.All(term =>
    {
        var value = labels?[term.Key]?.GetValue<string>();
        return term.Value is null
            ? (value is not null) != term.Negated
            : (value == term.Value) != term.Negated;
    });
}
