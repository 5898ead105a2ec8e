using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ClusterContext.Patching.Internal;

/// <summary>Refuses, before anything is written, what the engine cannot patch reliably, saying why.</summary>
internal static class PatchValidation
{
    /// <summary>The JIT always inlines methods this small (IL bytes) unless told not to; a patch could not reach those calls.</summary>
    private const int AlwaysInlinedILSize = 16;

    public static void Validate(MethodBase target, MethodInfo replacement)
    {
        var name = $"{target.DeclaringType?.FullName}.{target.Name}";
        if (!X64.IsSupported || !OperatingSystem.IsLinux())
        {
            Fail(name, $"patching is implemented for Linux x64; this is {RuntimeInformation.OSDescription} on {RuntimeInformation.ProcessArchitecture}");
        }

        if (target.IsAbstract || target.IsVirtual)
        {
            Fail(name, "it is virtual or abstract: calls dispatch through a vtable slot, not its entry; patch the non-virtual method it calls");
        }

        if (target.ContainsGenericParameters)
        {
            Fail(name, "it is an open generic; patch a constructed method (e.g. of List<int>)");
        }

        if (target.IsGenericMethod)
        {
            Fail(name, "generic methods are not supported (methods of generic types are)");
        }

        var flags = target.MethodImplementationFlags;
        var body = target.GetMethodBody();
        if (body is null || (flags & (MethodImplAttributes.InternalCall | MethodImplAttributes.Native | MethodImplAttributes.Runtime)) != 0)
        {
            Fail(name, "it has no IL body (extern, P/Invoke or implemented by the runtime)");
        }

        if ((flags & MethodImplAttributes.AggressiveInlining) != 0)
        {
            Fail(name, "it is marked AggressiveInlining: the JIT copies it into its callers, where no patch can reach");
        }

        var ilSize = body!.GetILAsByteArray()?.Length ?? 0;
        if (ilSize <= AlwaysInlinedILSize && (flags & MethodImplAttributes.NoInlining) == 0)
        {
            Fail(name, $"its IL is only {ilSize} bytes, so the JIT inlines it into its callers, where no patch can reach; patch a larger method it calls");
        }

        ValidateReplacement(target, replacement, name);
    }

    private static void ValidateReplacement(MethodBase target, MethodInfo replacement, string name)
    {
        if (!replacement.IsStatic || replacement.IsGenericMethodDefinition || replacement.ContainsGenericParameters)
        {
            Fail(name, $"the replacement {replacement.DeclaringType?.Name}.{replacement.Name} must be a static, non-generic method");
        }

        var expected = new List<Type>();
        if (!target.IsStatic)
        {
            var self = target.DeclaringType!;
            expected.Add(self.IsValueType ? self.MakeByRefType() : self);
        }

        expected.AddRange(target.GetParameters().Select(p => p.ParameterType));
        var actual = replacement.GetParameters().Select(p => p.ParameterType).ToList();
        var returnType = target is MethodInfo method ? method.ReturnType : typeof(void);
        if (expected.Count != actual.Count || !expected.Zip(actual).All(p => IsCallCompatible(p.First, p.Second)) || !IsCallCompatible(returnType, replacement.ReturnType))
        {
            Fail(name, $"the replacement must be {returnType.Name} ({string.Join(", ", expected.Select(t => t.Name))}) but is {replacement.ReturnType.Name} ({string.Join(", ", actual.Select(t => t.Name))})");
        }
    }

    /// <summary>
    /// Whether a replacement may declare <paramref name="actual"/> where the target has <paramref name="expected"/>:
    /// the same type, or one passed the same way at the machine level, because choke points often take types a
    /// replacement cannot name (internal structs by reference, internal enums, internal delegate types).
    /// </summary>
    private static bool IsCallCompatible(Type expected, Type actual)
    {
        if (expected == actual)
        {
            return true;
        }

        if (expected.IsByRef || actual.IsByRef)
        {
            return expected.IsByRef && actual.IsByRef;
        }

        if (expected.IsEnum || actual.IsEnum)
        {
            return Underlying(expected) == Underlying(actual);
        }

        return !expected.IsValueType && !actual.IsValueType && !expected.IsPointer && !actual.IsPointer && actual.IsAssignableFrom(expected);
    }

    private static Type Underlying(Type type) => type.IsEnum ? Enum.GetUnderlyingType(type) : type;

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string method, string reason) => throw new PatchException($"Cannot patch {method}: {reason}.");

    /// <summary>Compiles the method now so that it has code to patch.</summary>
    public static void Prepare(MethodBase method)
    {
        var type = method.DeclaringType;
        if (type is { IsGenericType: true })
        {
            RuntimeHelpers.PrepareMethod(method.MethodHandle, [.. type.GetGenericArguments().Select(t => t.TypeHandle)]);
        }
        else
        {
            RuntimeHelpers.PrepareMethod(method.MethodHandle);
        }
    }

    /// <summary>
    /// The handles the JIT compiles the method under: its own, and for a generic type instantiated over reference
    /// types, the shared canonical form (<c>G&lt;__Canon&gt;</c>) whose code all such instantiations run.
    /// </summary>
    public static IReadOnlyList<nint> CompiledHandles(MethodBase target)
    {
        var handles = new List<nint> { target.MethodHandle.Value };
        var type = target.DeclaringType;
        if (type is { IsConstructedGenericType: true } && type.GetGenericArguments().Any(a => !a.IsValueType))
        {
            var canon = typeof(object).Assembly.GetType("System.__Canon");
            if (canon is not null)
            {
                try
                {
                    var shared = type.GetGenericTypeDefinition().MakeGenericType([.. type.GetGenericArguments().Select(a => a.IsValueType ? a : canon)]);
                    var sharedMethod = shared.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                        .Cast<MethodBase>()
                        .Concat(shared.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance))
                        .FirstOrDefault(m => m.MetadataToken == target.MetadataToken);
                    if (sharedMethod is not null && sharedMethod.MethodHandle.Value != target.MethodHandle.Value)
                    {
                        handles.Add(sharedMethod.MethodHandle.Value);
                    }
                }
                catch (ArgumentException)
                {
                    // Constraints that __Canon does not meet: such a type shares no code.
                }
            }
        }

        return handles;
    }
}
