using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.Loader;

namespace ClusterContext.Patching.Probe;

/// <summary>
/// Methods the runtime cannot compile, built in memory: each names something this process does not have, so that
/// the JIT's request to the runtime to resolve it fails during the compilation and the runtime's exception passes
/// through the JIT on its way to the caller: an assembly that is not deployed (FileNotFoundException), a method
/// this assembly does not have (MissingMethodException), a type it does not have (TypeLoadException). Each call
/// compiles the method again (a compilation that failed leaves no code) and throws again.
/// </summary>
internal static class FailingCalls
{
    public static (Func<int> MissingAssembly, Func<int> MissingMethod, Func<int> MissingType) Build()
    {
        // An assembly that is never saved anywhere: the methods below reference it by name only.
        var absent = Define(new AssemblyName("ClusterContext.Patching.Probe.Absent"), "Absent.Thing", "Get");

        // A stand-in for this very assembly: at run time its references resolve to the real one, which has the type
        // JitTimeExceptions but no method "Gone", and no type "NoSuchType" at all.
        var self = typeof(FailingCalls).Assembly.GetName();
        var gone = Define(self, typeof(JitTimeExceptions).FullName!, "Gone");
        var noSuchType = Define(self, "ClusterContext.Patching.Probe.NoSuchType", "Get");

        var calls = new PersistedAssemblyBuilder(new AssemblyName("ClusterContext.Patching.Probe.Failing"), typeof(object).Assembly);
        var type = calls.DefineDynamicModule("Failing").DefineType("Failing.Calls", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed);
        foreach (var (name, callee) in new[] { ("MissingAssembly", absent), ("MissingMethod", gone), ("MissingType", noSuchType) })
        {
            var il = type.DefineMethod(name, MethodAttributes.Public | MethodAttributes.Static, typeof(int), Type.EmptyTypes).GetILGenerator();
            il.Emit(OpCodes.Call, callee);
            il.Emit(OpCodes.Ret);
        }

        type.CreateType();
        using var image = new MemoryStream();
        calls.Save(image);
        image.Position = 0;
        var loaded = AssemblyLoadContext.Default.LoadFromStream(image).GetType("Failing.Calls", throwOnError: true)!;
        return (Delegate("MissingAssembly"), Delegate("MissingMethod"), Delegate("MissingType"));

        Func<int> Delegate(string name) => loaded.GetMethod(name)!.CreateDelegate<Func<int>>();
    }

    private static MethodBuilder Define(AssemblyName assembly, string typeName, string methodName)
    {
        var builder = new PersistedAssemblyBuilder(assembly, typeof(object).Assembly);
        var type = builder.DefineDynamicModule(assembly.Name!).DefineType(typeName, TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed);
        var method = type.DefineMethod(methodName, MethodAttributes.Public | MethodAttributes.Static, typeof(int), Type.EmptyTypes);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Ret);
        type.CreateType();
        return method;
    }
}
