namespace OrdersApi;

/// <summary>What GET /orders/summary answers: everything the service reads from its surroundings.</summary>
internal sealed record OrdersSummary(
    string? Mode,
    string? Source,
    int PasswordLength,
    string Redis,
    long OrdersPlaced,
    string Web,
    string Context);
