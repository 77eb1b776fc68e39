using System.CommandLine;
using WeightScope.Cli.Commands;

var root = new RootCommand("""
    WeightScope: read the weights of trained neural networks (PyTorch, safetensors, NumPy…) without Python.

    Examples:
      weightscope list model.pth
      weightscope show model.pth fc1.weight --precision 2
      weightscope tree whole_model.pt
      weightscope info model.safetensors --json
    """)
{
    ListCommand.Create(),
    ShowCommand.Create(),
    TreeCommand.Create(),
    InfoCommand.Create(),
};

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var e in parse.Errors) Console.Error.WriteLine($"weightscope: {e.Message}");
    Console.Error.WriteLine("Run 'weightscope --help' or 'weightscope <verb> --help' for usage.");
    return ExitCode.Usage;
}
// Exceptions are mapped to exit codes by each verb (Common.Run), never by System.CommandLine's handler (exit 1).
return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
