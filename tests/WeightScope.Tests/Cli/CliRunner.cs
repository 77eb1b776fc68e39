using System.Diagnostics;

namespace WeightScope.Tests.Cli;

/// <summary>Runs the real CLI (the WeightScope.Cli.dll built beside the tests) in a child process.</summary>
public static class CliRunner
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "WeightScope.Cli.dll");

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => RunIn(null, args);

    /// <summary>Runs with <paramref name="workingDirectory"/> as the current folder (relative paths resolve there).</summary>
    public static Result RunIn(string? workingDirectory, params string[] args) => RunProgram("dotnet", [Dll], workingDirectory, args);

    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="leadingArgs"/> then <paramref name="args"/> (the native
    /// build is run as itself, the managed one as <c>dotnet WeightScope.Cli.dll</c>), colour off, within 60 s.
    /// </summary>
    public static Result RunProgram(string program, IEnumerable<string> leadingArgs, string? workingDirectory, params string[] args) =>
        RunProgram(program, leadingArgs, workingDirectory, null, args);

    /// <summary>Runs the managed CLI with extra environment variables (TMPDIR, …).</summary>
    public static Result RunWithEnvironment(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunProgram("dotnet", [Dll], null, environment, args);

    private static Result RunProgram(string program, IEnumerable<string> leadingArgs, string? workingDirectory,
        IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in leadingArgs) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"weightscope {string.Join(' ', args)} did not finish in 60 s");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
