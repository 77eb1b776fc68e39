using Spectre.Console;

namespace WeightScope.Cli.Output;

/// <summary>
/// A progress bar on stderr for work that can take over a second (DESIGN.md, issue 5): shown only when stderr is a
/// terminal and the work is large (<see cref="MinBytes"/>), so pipes, redirects and tests see nothing. stdout stays
/// the verb's output.
/// </summary>
internal static class Progress
{
    /// <summary>Below this much data the work finishes in well under a second (reading runs at GB/s): no bar.</summary>
    public const long MinBytes = 256L << 20;

    /// <summary>
    /// Runs <paramref name="work"/>, giving it a callback to report units done (thread-safe; units are whatever
    /// <paramref name="totalUnits"/> counts, usually bytes).
    /// </summary>
    public static T Run<T>(string description, long totalUnits, long totalBytes, Func<Action<long>, T> work)
    {
        if (Console.IsErrorRedirected || totalBytes < MinBytes || totalUnits <= 0) return work(_ => { });
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(description, maxValue: totalUnits);
                result = work(n => { lock (task) task.Increment(n); });
            });
        return result;
    }
}
