namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// HEAD for every GET endpoint (RFC 9110 9.3.2: a server must support it; monitors and link checkers send it): the
/// request is routed as the GET it mirrors, its body goes nowhere, and the method is HEAD again for the request log.
/// Minimal-API routes match GET only, which answered 405.
/// </summary>
public static class HeadRequests
{
    public static IApplicationBuilder UseHeadAsGet(this IApplicationBuilder app) =>
        app.Use(next => async context =>
        {
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await next(context);
                return;
            }

            var body = context.Response.Body;
            context.Request.Method = HttpMethods.Get;
            context.Response.Body = Stream.Null;
            try
            {
                await next(context);
            }
            finally
            {
                context.Request.Method = HttpMethods.Head;
                context.Response.Body = body;
            }
        });
}
