using System.Text.RegularExpressions;
using WeightScope.Modules;

namespace WeightScope.Tensors;

/// <summary>
/// A selection of a model's tensors, as <c>list --filter/--regex/--type/--trainable/--buffers</c> make it. All given
/// criteria must hold; several globs match when any of them does.
/// </summary>
public sealed record TensorQuery
{
    /// <summary>Globs on the name (see <see cref="TensorCollection.Match"/>); empty = all.</summary>
    public IReadOnlyList<string> Globs { get; init; } = [];

    /// <summary>A regular expression searched in the name, or null.</summary>
    public string? Regex { get; init; }

    /// <summary>
    /// Owning module type as a Python user writes it (<c>Linear</c>, <c>nn.Linear</c>, <c>torch.nn.Linear</c>,
    /// <c>keras.layers.Dense</c>; see <see cref="ModuleTypeName"/>), where the file records a module tree.
    /// </summary>
    public string? ModuleType { get; init; }

    /// <summary>Roles to keep; empty = all.</summary>
    public IReadOnlyList<TensorRole> Roles { get; init; } = [];

    /// <summary>
    /// Keep only the tensors of the model's <c>state_dict()</c>: leave out those whose role is outside it
    /// (<see cref="TensorRoles.IsOutsideStateDict"/>) unless <see cref="Roles"/> asks for that role. What <c>list</c>
    /// shows by default.
    /// </summary>
    public bool StateDictOnly { get; init; }

    /// <summary>The tensors of <paramref name="model"/> that match, in file order.</summary>
    /// <exception cref="InvalidOperationException">A module type is asked for but the file records no module types.</exception>
    /// <exception cref="ArgumentException">No module of the file is of that type (the message lists the types present).</exception>
    public IEnumerable<TensorEntry> Apply(ModelFile model)
    {
        IEnumerable<TensorEntry> result = model.Tensors;
        if (Globs.Count > 0)
        {
            var res = Globs.Select(TensorCollection.GlobToRegex).ToList();
            result = result.Where(t => res.Any(r => r.IsMatch(t.Name)));
        }
        if (Regex is not null)
        {
            var re = new Regex(Regex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            result = result.Where(t => re.IsMatch(t.Name));
        }
        if (ModuleType is not null)
        {
            if (!model.HasModuleTypes)
                throw new InvalidOperationException(
                    $"this {model.Format.Name} file records no module types, so '--type {ModuleType}' cannot be answered; filter by name instead");
            var owned = new HashSet<TensorEntry>(ReferenceEqualityComparer.Instance);
            foreach (var node in ModuleTypeName.Select(model.Modules, ModuleType))
                foreach (var t in node.Parameters.Values.Concat(node.Buffers.Values))
                    if (t is not null) owned.Add(t);
            result = result.Where(owned.Contains);
        }
        if (Roles.Count > 0) result = result.Where(t => Roles.Contains(t.Role));
        else if (StateDictOnly) result = result.Where(t => !t.Role.IsOutsideStateDict());
        return result;
    }
}
