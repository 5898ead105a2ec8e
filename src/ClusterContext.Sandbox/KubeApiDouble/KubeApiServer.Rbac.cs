using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// RBAC as objects: Roles and RoleBindings (<c>rbac.authorization.k8s.io/v1</c>) stored through the API decide what a
/// user may do in their namespace, with the rules of <see cref="Bind"/>, as the union RBAC makes of every binding. A
/// user nothing binds (no binding names them, no <see cref="Bind"/>) may do anything, as the double always allowed.
/// A rule that names <c>resourceNames</c> allows no request here (the requests checked carry no name to match), and a
/// binding to a ClusterRole grants nothing (ClusterRoles are not served).
/// </summary>
public sealed partial class KubeApiServer
{
    private bool Allowed(string user, string @namespace, string group, string resource, string verb)
    {
        var bound = BoundRules(user, @namespace);
        var bind = _roles.TryGetValue(user, out var rules) ? rules : null;
        if (bound is null && bind is null)
        {
            return !AnyBindingNames(user);
        }

        return (bound ?? []).Concat(bind ?? []).Any(r => r.Allows(group, resource, verb));
    }

    /// <summary>The rules of the Roles that RoleBindings of <paramref name="namespace"/> bind to <paramref name="user"/>; null when none names them there.</summary>
    private List<RoleRule>? BoundRules(string user, string @namespace)
    {
        List<RoleRule>? rules = null;
        foreach (var binding in Stored("rolebindings", @namespace))
        {
            if (!Names(binding, user, @namespace))
            {
                continue;
            }

            rules ??= [];
            if ((string?)binding["roleRef"]?["kind"] == "Role" && Get("roles", @namespace, (string?)binding["roleRef"]?["name"] ?? "") is { } role)
            {
                rules.AddRange(Rules(role));
            }
        }

        return rules;
    }

    /// <summary>Whether a binding in another namespace names the user: they are bound, just not here.</summary>
    private bool AnyBindingNames(string user) =>
        _objects.Where(o => o.Key.StartsWith("rolebindings/", StringComparison.Ordinal))
            .Any(o => Names(o.Value, user, (string?)o.Value["metadata"]?["namespace"] ?? ""));

    private IEnumerable<JsonObject> Stored(string resource, string @namespace) =>
        _objects.Where(o => o.Key.StartsWith($"{resource}/{@namespace}/", StringComparison.Ordinal)).Select(o => o.Value);

    private static bool Names(JsonObject binding, string user, string @namespace) =>
        binding["subjects"]?.AsArray().Any(s => (string?)s?["kind"] switch
        {
            "User" => (string?)s["name"] == user,
            "ServiceAccount" => $"system:serviceaccount:{(string?)s["namespace"] ?? @namespace}:{(string?)s["name"]}" == user,
            _ => false,
        }) == true;

    private static List<RoleRule> Rules(JsonObject role)
    {
        static List<string> Strings(JsonNode? node) => node?.AsArray().Select(n => (string?)n).OfType<string>().ToList() ?? [];
        return role["rules"]?.AsArray().OfType<JsonObject>()
            .Where(r => Strings(r["resourceNames"]).Count == 0)
            .Select(r => new RoleRule(Strings(r["apiGroups"]), Strings(r["resources"]), Strings(r["verbs"])))
            .ToList() ?? [];
    }
}
