using NetworkSecurity.Api.Endpoints;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// A client that leaves while its answer is written (curl closing once the body arrived, a browser navigating away)
/// makes the last write or flush throw. That is not a server error: the request log should show the status the
/// client was sent (or 499 when nothing was sent), once, without a stack trace, rather than a 500 with one.
/// </summary>
public static class ClientAborts
{
    public static IApplicationBuilder UseClientAbortsAsAnswers(this IApplicationBuilder app) =>
        app.Use(next => async context =>
        {
            try
            {
                await next(context);
            }
            catch (Exception ex) when (Problems.IsClientAbort(ex, context.RequestAborted))
            {
                if (!context.Response.HasStarted)
                {
                    context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
                }
            }
        });
}
