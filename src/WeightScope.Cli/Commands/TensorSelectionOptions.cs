using System.CommandLine;
using WeightScope.Tensors;

namespace WeightScope.Cli.Commands;

/// <summary>
/// The options that select tensors, as <c>list</c> has them: <c>--filter</c>, <c>--regex</c>, <c>--type</c>,
/// <c>--trainable</c>, <c>--buffers</c>, <c>--all</c>; one set per command, turned into a <see cref="TensorQuery"/>.
/// </summary>
internal sealed class TensorSelectionOptions
{
    public Option<string[]> Filter { get; } = new("--filter", "-f") { Description = "Keep names matching a glob ('fc1*', '*.bias'); a plain word matches names containing it", AllowMultipleArgumentsPerToken = false };

    public Option<string?> Regex { get; } = new("--regex") { Description = "Keep names matching a regular expression" };

    public Option<string?> Type { get; } = new("--type") { Description = "Keep tensors of modules of this type (Linear, Conv2d…), where the file records a module tree" };

    public Option<bool> Trainable { get; } = new("--trainable") { Description = "Only parameters (trainable weights)" };

    public Option<bool> Buffers { get; } = new("--buffers") { Description = "Only buffers (running statistics and other saved state)" };

    public Option<bool> All { get; } = new("--all", "-a") { Description = "Also the tensors outside state_dict(): packed quantized weights, tensor attributes, code constants (TorchScript)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Filter);
        command.Options.Add(Regex);
        command.Options.Add(Type);
        command.Options.Add(Trainable);
        command.Options.Add(Buffers);
        command.Options.Add(All);
    }

    /// <summary>True when --trainable or --buffers is given.</summary>
    public bool RolesAsked(ParseResult p) => p.GetValue(Trainable) || p.GetValue(Buffers);

    /// <summary>True when any option narrows the selection.</summary>
    public bool IsUsed(ParseResult p) =>
        p.GetValue(Filter) is { Length: > 0 } || p.GetValue(Regex) is not null || p.GetValue(Type) is not null || RolesAsked(p);

    /// <summary>
    /// When --trainable or --buffers is given and <paramref name="model"/> records no roles (a bare <c>state_dict()</c>,
    /// safetensors, NumPy), says on stderr why the option selects nothing, and returns true.
    /// </summary>
    public bool NoteRolesUnrecorded(ModelFile model, ParseResult p, string verb)
    {
        if (!RolesAsked(p) || model.Tensors.Count == 0 || model.Tensors.Any(t => t.Role != TensorRole.Other)) return false;
        string option = p.GetValue(Trainable) ? "--trainable" : "--buffers";
        Console.Error.WriteLine($"note: this {model.Format.Name} file does not record which tensors are parameters or buffers " +
                                $"(a state_dict() or a plain tensor file holds tensors only), so {option} selects none; " +
                                $"without {option}, 'weightscope {verb}' shows them all");
        return true;
    }

    public TensorQuery Query(ParseResult p)
    {
        var roles = new List<TensorRole>();
        if (p.GetValue(Trainable)) roles.Add(TensorRole.Parameter);
        if (p.GetValue(Buffers)) roles.Add(TensorRole.Buffer);
        return new TensorQuery
        {
            Globs = p.GetValue(Filter) ?? [],
            Regex = p.GetValue(Regex),
            ModuleType = p.GetValue(Type),
            Roles = roles,
            StateDictOnly = !p.GetValue(All),
        };
    }
}
