package org.routecal.kernel;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Hands a magic's result object to the notebook's JShell: the magic {@link #put}s it and declares
 * {@code var r = (Type) org.routecal.kernel.Results.take("id");}. JShell's local execution shares this JVM and, through
 * its parent class loader, this class, so the variable is the very object the stage returned.
 */
public final class Results {
    private static final Map<String, Object> PENDING = new ConcurrentHashMap<>();

    private Results() {}

    static String put(Object result) {
        String id = UUID.randomUUID().toString();
        PENDING.put(id, result);
        return id;
    }

    /** Removes and returns the result stored under {@code id}. */
    public static Object take(String id) {
        Object r = PENDING.remove(id);
        if (r == null) throw new IllegalStateException("no pending magic result " + id);
        return r;
    }

    /**
     * The most specific public type of {@code value} that notebook code can name: its class if public and named,
     * else the first public superclass other than Object, else its first public interface, else Object. Generic
     * types are named raw.
     */
    static String publicTypeName(Object value) {
        for (Class<?> c = value.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            if (nameable(c)) return c.getCanonicalName();
        }
        for (Class<?> c = value.getClass(); c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) if (nameable(i)) return i.getCanonicalName();
        }
        return "Object";
    }

    private static boolean nameable(Class<?> c) {
        return java.lang.reflect.Modifier.isPublic(c.getModifiers()) && c.getCanonicalName() != null && isPublicChain(c);
    }

    private static boolean isPublicChain(Class<?> c) {
        for (Class<?> e = c.getEnclosingClass(); e != null; e = e.getEnclosingClass()) {
            if (!java.lang.reflect.Modifier.isPublic(e.getModifiers())) return false;
        }
        Module m = c.getModule();
        return !m.isNamed() || m.isExported(c.getPackageName());
    }
}
