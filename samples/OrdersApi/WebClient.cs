namespace OrdersApi;

/// <summary>The cluster's <c>web</c> service, through IHttpClientFactory (a typed client).</summary>
internal sealed class WebClient(HttpClient http)
{
    public async Task<string> GetStatusAsync(CancellationToken cancellationToken)
    {
        try
        {
            return (await http.GetStringAsync("/", cancellationToken)).Trim();
        }
        catch (HttpRequestException ex)
        {
            return $"unreachable: {ex.Message}";
        }
    }
}
