package org.routecal.tokenize.jinja;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.routecal.tokenize.jinja.Node.Expr;
import org.routecal.tokenize.jinja.Ops.Fn;
import org.routecal.tokenize.jinja.Ops.Namespace;
import org.routecal.tokenize.jinja.Py.Tuple;
import org.routecal.tokenize.jinja.Py.Undefined;

/**
 * Walks the syntax tree. Scoping follows jinja2: every {@code for} iteration and every macro call gets a fresh child
 * scope, so a {@code set} inside a loop is gone at the next iteration and outside the loop (templates carry state out
 * of loops through {@code namespace()}); {@code if} blocks share their parent's scope.
 */
final class Interpreter {
    private enum Flow { NORMAL, BREAK, CONTINUE }

    static final class Scope {
        final Scope parent;
        final Map<String, Object> vars = new HashMap<>();
        Scope(Scope parent) { this.parent = parent; }

        Object lookup(String name) {
            for (Scope s = this; s != null; s = s.parent) if (s.vars.containsKey(name)) return s.vars.get(name);
            return new Undefined(name);
        }
    }

    /** jinja2's {@code loop} variable. */
    static final class Loop {
        private final List<Object> items;
        private final int index;
        Loop(List<Object> items, int index) { this.items = items; this.index = index; }

        Object attr(String name) {
            int n = items.size();
            return switch (name) {
                case "index" -> (long) index + 1;
                case "index0" -> (long) index;
                case "revindex" -> (long) (n - index);
                case "revindex0" -> (long) (n - index - 1);
                case "first" -> index == 0;
                case "last" -> index == n - 1;
                case "length" -> (long) n;
                case "depth" -> 1L;
                case "depth0" -> 0L;
                case "previtem" -> index > 0 ? items.get(index - 1) : new Undefined("previtem");
                case "nextitem" -> index < n - 1 ? items.get(index + 1) : new Undefined("nextitem");
                case "cycle" -> (Fn) (args, kw) -> {
                    if (args.isEmpty()) throw new JinjaException("TypeError: no items for cycling given");
                    return args.get(index % args.size());
                };
                default -> new Undefined("loop." + name);
            };
        }
    }

    private final Scope globals;

    Interpreter(Map<String, Object> context) {
        globals = new Scope(null);
        globals.vars.putAll(Builtins.globals());
        globals.vars.putAll(context);
    }

    String render(List<Node> template) {
        StringBuilder out = new StringBuilder();
        exec(template, new Scope(globals), out);
        return out.toString();
    }

    // ---- statements -------------------------------------------------------------------------------------------------

    private Flow exec(List<Node> nodes, Scope scope, StringBuilder out) {
        for (Node node : nodes) {
            Flow f = exec(node, scope, out);
            if (f != Flow.NORMAL) return f;
        }
        return Flow.NORMAL;
    }

    private Flow exec(Node node, Scope scope, StringBuilder out) {
        if (node instanceof Node.Text t) {
            out.append(t.text());
        } else if (node instanceof Node.Output o) {
            out.append(Py.str(eval(o.expr(), scope)));
        } else if (node instanceof Node.If n) {
            for (int k = 0; k < n.conditions().size(); k++) {
                if (Py.truthy(eval(n.conditions().get(k), scope))) return exec(n.bodies().get(k), scope, out);
            }
            return exec(n.orElse(), scope, out);
        } else if (node instanceof Node.For n) {
            return loop(n, scope, out);
        } else if (node instanceof Node.Set n) {
            assign(n.target(), eval(n.value(), scope), scope);
        } else if (node instanceof Node.SetBlock n) {
            StringBuilder body = new StringBuilder();
            exec(n.body(), scope, body);
            scope.vars.put(n.name(), body.toString());
        } else if (node instanceof Node.Macro n) {
            scope.vars.put(n.name(), macro(n, scope));
        } else if (node instanceof Node.Break) {
            return Flow.BREAK;
        } else if (node instanceof Node.Continue) {
            return Flow.CONTINUE;
        } else if (node instanceof Node.Generation g) {
            return exec(g.body(), scope, out);
        } else if (node instanceof Node.FilterBlock n) {
            StringBuilder body = new StringBuilder();
            exec(n.body(), scope, body);
            out.append(Py.str(applyFilter(n.filter(), body.toString(), scope)));
        }
        return Flow.NORMAL;
    }

    private Flow loop(Node.For n, Scope scope, StringBuilder out) {
        List<Object> items = new ArrayList<>();
        for (Object item : Ops.iterate(eval(n.iter(), scope))) {
            if (n.filter() == null) { items.add(item); continue; }
            Scope probe = new Scope(scope);
            bindTargets(n, item, probe);
            if (Py.truthy(eval(n.filter(), probe))) items.add(item);
        }
        if (items.isEmpty()) return exec(n.orElse(), scope, out);
        for (int k = 0; k < items.size(); k++) {
            Scope body = new Scope(scope);
            body.vars.put("loop", new Loop(items, k));
            bindTargets(n, items.get(k), body);
            if (exec(n.body(), body, out) == Flow.BREAK) break;
        }
        return Flow.NORMAL;
    }

    private static void bindTargets(Node.For n, Object item, Scope scope) {
        if (n.targets().size() == 1) {
            scope.vars.put(n.targets().get(0), item);
            return;
        }
        List<Object> parts = Ops.iterate(item);
        if (parts.size() != n.targets().size()) {
            throw JinjaException.at(n.line(), "ValueError: cannot unpack " + parts.size() + " values into " + n.targets().size());
        }
        for (int k = 0; k < parts.size(); k++) scope.vars.put(n.targets().get(k), parts.get(k));
    }

    private void assign(Expr target, Object value, Scope scope) {
        if (target instanceof Expr.Name n) {
            scope.vars.put(n.name(), value);
        } else if (target instanceof Expr.Attr a) {
            Object ns = eval(a.target(), scope);
            if (!(ns instanceof Namespace namespace)) {
                throw JinjaException.at(a.line(), "cannot assign attribute on non-namespace object");
            }
            namespace.attrs.put(a.name(), value);
        } else if (target instanceof Expr.ListLit l) {
            List<Object> parts = Ops.iterate(value);
            if (parts.size() != l.items().size()) {
                throw JinjaException.at(l.line(), "ValueError: cannot unpack " + parts.size() + " values into " + l.items().size());
            }
            for (int k = 0; k < parts.size(); k++) assign(l.items().get(k), parts.get(k), scope);
        }
    }

    private Fn macro(Node.Macro m, Scope defining) {
        return (args, kwargs) -> {
            Scope s = new Scope(defining);
            if (args.size() > m.params().size()) throw new JinjaException("macro '" + m.name() + "' takes not more than " + m.params().size() + " argument(s)");
            for (int k = 0; k < m.params().size(); k++) {
                String p = m.params().get(k);
                Object v;
                if (k < args.size()) v = args.get(k);
                else if (kwargs.containsKey(p)) v = kwargs.get(p);
                else if (m.defaults().get(k) != null) v = eval(m.defaults().get(k), s);
                else v = new Undefined(p);
                s.vars.put(p, v);
            }
            StringBuilder body = new StringBuilder();
            exec(m.body(), s, body);
            return body.toString();
        };
    }

    // ---- expressions ------------------------------------------------------------------------------------------------

    Object eval(Expr e, Scope scope) {
        try {
            return evalUnchecked(e, scope);
        } catch (JinjaException ex) {
            throw ex;
        } catch (RuntimeException ex) {
            throw JinjaException.at(e.line(), ex.getClass().getSimpleName() + ": " + ex.getMessage());
        }
    }

    private Object evalUnchecked(Expr e, Scope scope) {
        if (e instanceof Expr.Const c) return c.value();
        if (e instanceof Expr.Name n) return scope.lookup(n.name());
        if (e instanceof Expr.ListLit l) {
            List<Object> items = new ArrayList<>();
            for (Expr x : l.items()) items.add(eval(x, scope));
            return l.tuple() ? new Tuple(items) : items;
        }
        if (e instanceof Expr.DictLit d) {
            Map<Object, Object> m = new LinkedHashMap<>();
            for (int k = 0; k < d.keys().size(); k++) m.put(eval(d.keys().get(k), scope), eval(d.values().get(k), scope));
            return m;
        }
        if (e instanceof Expr.Attr a) return Ops.getattr(eval(a.target(), scope), a.name());
        if (e instanceof Expr.Item it) return Ops.getitem(eval(it.target(), scope), eval(it.key(), scope));
        if (e instanceof Expr.Slice s) {
            return Ops.slice(eval(s.target(), scope), opt(s.start(), scope), opt(s.stop(), scope), opt(s.step(), scope));
        }
        if (e instanceof Expr.Call c) {
            Object fn = eval(c.fn(), scope);
            if (fn instanceof Undefined u) throw JinjaException.at(c.line(), u.error().getMessage());
            if (!(fn instanceof Fn f)) throw JinjaException.at(c.line(), "TypeError: '" + Ops.typeName(fn) + "' object is not callable");
            List<Object> args = new ArrayList<>();
            for (Expr x : c.args()) args.add(eval(x, scope));
            return f.call(args, kwargs(c.kwNames(), c.kwValues(), scope));
        }
        if (e instanceof Expr.Filter f) return applyFilter(f, eval(f.target(), scope), scope);
        if (e instanceof Expr.Test t) {
            List<Object> args = new ArrayList<>();
            for (Expr x : t.args()) args.add(eval(x, scope));
            boolean r = Builtins.test(t.name(), eval(t.target(), scope), args);
            return t.negated() != r;
        }
        if (e instanceof Expr.Unary u) {
            Object v = eval(u.operand(), scope);
            if (u.op().equals("not")) return !Py.truthy(v);
            return u.op().equals("-") ? Ops.negate(v) : v;
        }
        if (e instanceof Expr.Binary b) {
            Object left = eval(b.left(), scope);
            if (b.op().equals("and")) return Py.truthy(left) ? eval(b.right(), scope) : left;
            if (b.op().equals("or")) return Py.truthy(left) ? left : eval(b.right(), scope);
            return Ops.binary(b.op(), left, eval(b.right(), scope));
        }
        if (e instanceof Expr.Compare c) {
            Object left = eval(c.first(), scope);
            for (int k = 0; k < c.ops().size(); k++) {
                Object right = eval(c.rest().get(k), scope);
                if (!Ops.compare(c.ops().get(k), left, right)) return false;
                left = right;
            }
            return true;
        }
        Expr.Cond c = (Expr.Cond) e;
        if (Py.truthy(eval(c.test(), scope))) return eval(c.then(), scope);
        return c.orElse() == null ? new Undefined("else") : eval(c.orElse(), scope);
    }

    private Object opt(Expr e, Scope scope) { return e == null ? null : eval(e, scope); }

    private Map<String, Object> kwargs(List<String> names, List<Expr> values, Scope scope) {
        Map<String, Object> kw = new LinkedHashMap<>();
        for (int k = 0; k < names.size(); k++) kw.put(names.get(k), eval(values.get(k), scope));
        return kw;
    }

    private Object applyFilter(Expr.Filter f, Object value, Scope scope) {
        List<Object> args = new ArrayList<>();
        for (Expr x : f.args()) args.add(eval(x, scope));
        try {
            return Builtins.filter(f.name(), value, args, kwargs(f.kwNames(), f.kwValues(), scope));
        } catch (JinjaException ex) {
            throw ex.getMessage().startsWith("line ") ? ex : JinjaException.at(f.line(), ex.getMessage());
        }
    }
}
