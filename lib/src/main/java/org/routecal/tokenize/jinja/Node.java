package org.routecal.tokenize.jinja;

import java.util.List;

/** The template syntax tree: statements render text, expressions produce values. {@code line} is the template line. */
sealed interface Node {

    // ---- statements -------------------------------------------------------------------------------------------------
    record Text(String text) implements Node { }
    record Output(Expr expr, int line) implements Node { }
    record If(List<Expr> conditions, List<List<Node>> bodies, List<Node> orElse) implements Node { }
    /** {@code for targets in iter [if filter]} ... {@code [else]} ... {@code endfor}. */
    record For(List<String> targets, Expr iter, Expr filter, List<Node> body, List<Node> orElse, int line) implements Node { }
    /** {@code set target = value}; target is a name, a tuple of names, or {@code ns.attr}. */
    record Set(Expr target, Expr value, int line) implements Node { }
    record SetBlock(String name, List<Node> body) implements Node { }
    record Macro(String name, List<String> params, List<Expr> defaults, List<Node> body) implements Node { }
    record Break() implements Node { }
    record Continue() implements Node { }
    /** transformers' {@code {% generation %}} tag: only marks assistant spans, renders its body unchanged. */
    record Generation(List<Node> body) implements Node { }
    record FilterBlock(Expr.Filter filter, List<Node> body) implements Node { }

    // ---- expressions ------------------------------------------------------------------------------------------------
    sealed interface Expr {
        int line();

        record Const(Object value, int line) implements Expr { }
        record Name(String name, int line) implements Expr { }
        record ListLit(List<Expr> items, boolean tuple, int line) implements Expr { }
        record DictLit(List<Expr> keys, List<Expr> values, int line) implements Expr { }
        record Attr(Expr target, String name, int line) implements Expr { }
        record Item(Expr target, Expr key, int line) implements Expr { }
        record Slice(Expr target, Expr start, Expr stop, Expr step, int line) implements Expr { }
        record Call(Expr fn, List<Expr> args, List<String> kwNames, List<Expr> kwValues, int line) implements Expr { }
        /** {@code target | name(args)}; target is null inside a filter block. */
        record Filter(Expr target, String name, List<Expr> args, List<String> kwNames, List<Expr> kwValues, int line) implements Expr { }
        record Test(Expr target, String name, List<Expr> args, boolean negated, int line) implements Expr { }
        record Unary(String op, Expr operand, int line) implements Expr { }
        record Binary(String op, Expr left, Expr right, int line) implements Expr { }
        record Compare(Expr first, List<String> ops, List<Expr> rest, int line) implements Expr { }
        record Cond(Expr test, Expr then, Expr orElse, int line) implements Expr { }
    }
}
