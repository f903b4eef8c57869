package org.routecal.tokenize.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.routecal.tokenize.jinja.Lexer.Kind;
import org.routecal.tokenize.jinja.Lexer.Tok;
import org.routecal.tokenize.jinja.Node.Expr;

/**
 * Recursive-descent parser for the jinja2 subset chat templates use. Operator precedence follows jinja2's parser
 * (lowest first): conditional {@code a if b else c}, {@code or}, {@code and}, {@code not}, comparisons and
 * {@code in}, {@code + -}, {@code ~}, {@code * / // %}, {@code **}, unary minus; then postfix ({@code .attr},
 * {@code [i]}, {@code [a:b:c]}, calls) and filters/tests ({@code |f}, {@code is t}) bind tightest.
 */
final class Parser {
    private static final Set<String> COMPARE = Set.of("==", "!=", "<", ">", "<=", ">=");

    private final List<Tok> toks;
    private int i;

    private Parser(List<Tok> toks) { this.toks = toks; }

    static List<Node> parse(String source) {
        Parser p = new Parser(Lexer.lex(source));
        List<Node> body = p.statements(Set.of());
        if (p.peek().kind() != Kind.EOF) throw p.error("unexpected '" + p.peek().text() + "'");
        return body;
    }

    // ---- token helpers ----------------------------------------------------------------------------------------------

    private Tok peek() { return toks.get(i); }
    private Tok peek(int k) { return toks.get(Math.min(i + k, toks.size() - 1)); }
    private Tok next() { return toks.get(i++); }

    private JinjaException error(String msg) { return JinjaException.at(peek().line(), msg); }

    private boolean skipOp(String op) {
        if (peek().isOp(op)) { i++; return true; }
        return false;
    }

    private boolean skipName(String name) {
        if (peek().isName(name)) { i++; return true; }
        return false;
    }

    private void expectOp(String op) {
        if (!skipOp(op)) throw error("expected '" + op + "', got '" + peek().text() + "'");
    }

    private String expectName() {
        if (peek().kind() != Kind.NAME) throw error("expected a name, got '" + peek().text() + "'");
        return next().text();
    }

    private void expectBlockEnd() {
        if (peek().kind() != Kind.BLOCK_END) throw error("expected end of statement block, got '" + peek().text() + "'");
        i++;
    }

    // ---- statements -------------------------------------------------------------------------------------------------

    /** Parses nodes until a block tag whose keyword is in {@code ends}; leaves the position on that keyword. */
    private List<Node> statements(Set<String> ends) {
        List<Node> out = new ArrayList<>();
        while (true) {
            Tok t = peek();
            switch (t.kind()) {
                case EOF -> {
                    if (!ends.isEmpty()) throw error("unexpected end of template, expected one of " + ends);
                    return out;
                }
                case TEXT -> { i++; out.add(new Node.Text(t.text())); }
                case VAR_BEGIN -> {
                    i++;
                    Expr e = tuple(true);
                    if (peek().kind() != Kind.VAR_END) throw error("expected '}}', got '" + peek().text() + "'");
                    i++;
                    out.add(new Node.Output(e, t.line()));
                }
                case BLOCK_BEGIN -> {
                    Tok kw = peek(1);
                    if (kw.kind() == Kind.NAME && ends.contains(kw.text())) { i++; return out; }
                    i++;
                    out.add(statement());
                }
                default -> throw error("unexpected '" + t.text() + "'");
            }
        }
    }

    private Node statement() {
        Tok kw = peek();
        String name = expectName();
        switch (name) {
            case "if": return ifStatement();
            case "for": return forStatement(kw.line());
            case "set": return setStatement(kw.line());
            case "macro": return macro();
            case "break": expectBlockEnd(); return new Node.Break();
            case "continue": expectBlockEnd(); return new Node.Continue();
            case "generation": {
                expectBlockEnd();
                List<Node> body = statements(Set.of("endgeneration"));
                endTag("endgeneration");
                return new Node.Generation(body);
            }
            case "filter": {
                Expr.Filter f = filter(null);
                expectBlockEnd();
                List<Node> body = statements(Set.of("endfilter"));
                endTag("endfilter");
                return new Node.FilterBlock(f, body);
            }
            default: throw JinjaException.at(kw.line(), "unsupported or unknown tag '" + name + "'");
        }
    }

    private void endTag(String name) {
        if (!skipName(name)) throw error("expected '" + name + "'");
        expectBlockEnd();
    }

    private Node ifStatement() {
        List<Expr> conds = new ArrayList<>();
        List<List<Node>> bodies = new ArrayList<>();
        List<Node> orElse = List.of();
        conds.add(tuple(true));
        expectBlockEnd();
        while (true) {
            bodies.add(statements(Set.of("elif", "else", "endif")));
            String k = expectName();
            if (k.equals("elif")) {
                conds.add(tuple(true));
                expectBlockEnd();
            } else if (k.equals("else")) {
                expectBlockEnd();
                orElse = statements(Set.of("endif"));
                endTag("endif");
                break;
            } else {
                expectBlockEnd();
                break;
            }
        }
        return new Node.If(conds, bodies, orElse);
    }

    private Node forStatement(int line) {
        List<String> targets = new ArrayList<>();
        boolean paren = skipOp("(");
        do targets.add(expectName()); while (skipOp(","));
        if (paren) expectOp(")");
        if (!skipName("in")) throw error("expected 'in' in for loop");
        Expr iter = tuple(false);
        Expr filter = skipName("if") ? tuple(true) : null;
        if (skipName("recursive")) throw error("recursive for loops are not supported");
        expectBlockEnd();
        List<Node> body = statements(Set.of("else", "endfor"));
        List<Node> orElse = List.of();
        if (skipName("else")) {
            expectBlockEnd();
            orElse = statements(Set.of("endfor"));
        }
        endTag("endfor");
        return new Node.For(targets, iter, filter, body, orElse, line);
    }

    private Node setStatement(int line) {
        Expr target;
        String first = expectName();
        if (skipOp(".")) {
            target = new Expr.Attr(new Expr.Name(first, line), expectName(), line);
        } else if (peek().isOp(",")) {
            List<Expr> names = new ArrayList<>(List.of(new Expr.Name(first, line)));
            while (skipOp(",")) names.add(new Expr.Name(expectName(), line));
            target = new Expr.ListLit(names, true, line);
        } else {
            target = new Expr.Name(first, line);
        }
        if (peek().kind() == Kind.BLOCK_END && target instanceof Expr.Name n) {
            i++;
            List<Node> body = statements(Set.of("endset"));
            endTag("endset");
            return new Node.SetBlock(n.name(), body);
        }
        expectOp("=");
        Expr value = tuple(true);
        expectBlockEnd();
        return new Node.Set(target, value, line);
    }

    private Node macro() {
        String name = expectName();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        expectOp("(");
        while (!skipOp(")")) {
            if (!params.isEmpty()) expectOp(",");
            params.add(expectName());
            defaults.add(skipOp("=") ? expression(true) : null);
        }
        expectBlockEnd();
        List<Node> body = statements(Set.of("endmacro"));
        endTag("endmacro");
        return new Node.Macro(name, params, defaults, body);
    }

    // ---- expressions ------------------------------------------------------------------------------------------------

    /** An expression, or a bare tuple {@code a, b} where a statement allows one. */
    private Expr tuple(boolean withCond) {
        int line = peek().line();
        Expr first = expression(withCond);
        if (!peek().isOp(",")) return first;
        List<Expr> items = new ArrayList<>(List.of(first));
        while (skipOp(",")) {
            if (atExprEnd()) break;
            items.add(expression(withCond));
        }
        return new Expr.ListLit(items, true, line);
    }

    private boolean atExprEnd() {
        Tok t = peek();
        return t.kind() == Kind.BLOCK_END || t.kind() == Kind.VAR_END || t.isOp(")") || t.isOp("]") || t.isOp("}")
            || t.isName("if");
    }

    private Expr expression(boolean withCond) {
        Expr e = or();
        if (!withCond) return e;
        while (peek().isName("if")) {
            int line = next().line();
            Expr test = or();
            Expr orElse = skipName("else") ? expression(true) : null;
            e = new Expr.Cond(test, e, orElse, line);
        }
        return e;
    }

    private Expr or() {
        Expr e = and();
        while (peek().isName("or")) {
            int line = next().line();
            e = new Expr.Binary("or", e, and(), line);
        }
        return e;
    }

    private Expr and() {
        Expr e = not();
        while (peek().isName("and")) {
            int line = next().line();
            e = new Expr.Binary("and", e, not(), line);
        }
        return e;
    }

    private Expr not() {
        if (peek().isName("not")) {
            int line = next().line();
            return new Expr.Unary("not", not(), line);
        }
        return compare();
    }

    private Expr compare() {
        int line = peek().line();
        Expr first = add();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Tok t = peek();
            if (t.kind() == Kind.OP && COMPARE.contains(t.text())) { i++; ops.add(t.text()); }
            else if (t.isName("in")) { i++; ops.add("in"); }
            else if (t.isName("not") && peek(1).isName("in")) { i += 2; ops.add("notin"); }
            else break;
            rest.add(add());
        }
        return ops.isEmpty() ? first : new Expr.Compare(first, ops, rest, line);
    }

    private Expr add() {
        Expr e = concat();
        while (peek().isOp("+") || peek().isOp("-")) {
            Tok op = next();
            e = new Expr.Binary(op.text(), e, concat(), op.line());
        }
        return e;
    }

    private Expr concat() {
        Expr e = mul();
        while (peek().isOp("~")) {
            Tok op = next();
            e = new Expr.Binary("~", e, mul(), op.line());
        }
        return e;
    }

    private Expr mul() {
        Expr e = pow();
        while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
            Tok op = next();
            e = new Expr.Binary(op.text(), e, pow(), op.line());
        }
        return e;
    }

    private Expr pow() {
        Expr e = unary(true);
        while (peek().isOp("**")) {
            Tok op = next();
            e = new Expr.Binary("**", e, unary(true), op.line());
        }
        return e;
    }

    private Expr unary(boolean withFilter) {
        Tok t = peek();
        Expr e;
        if (t.isOp("-") || t.isOp("+")) {
            i++;
            e = new Expr.Unary(t.text(), unary(false), t.line());
        } else {
            e = primary();
        }
        e = postfix(e);
        return withFilter ? filtersAndTests(e) : e;
    }

    private Expr primary() {
        Tok t = next();
        switch (t.kind()) {
            case NAME -> {
                return switch (t.text()) {
                    case "true", "True" -> new Expr.Const(Boolean.TRUE, t.line());
                    case "false", "False" -> new Expr.Const(Boolean.FALSE, t.line());
                    case "none", "None" -> new Expr.Const(null, t.line());
                    default -> new Expr.Name(t.text(), t.line());
                };
            }
            case STRING -> {
                StringBuilder sb = new StringBuilder(t.text());
                while (peek().kind() == Kind.STRING) sb.append(next().text());
                return new Expr.Const(sb.toString(), t.line());
            }
            case INT -> { return new Expr.Const(Long.parseLong(t.text()), t.line()); }
            case FLOAT -> { return new Expr.Const(Double.parseDouble(t.text()), t.line()); }
            case OP -> {
                if (t.text().equals("(")) {
                    if (skipOp(")")) return new Expr.ListLit(List.of(), true, t.line());
                    Expr e = expression(true);
                    if (peek().isOp(",")) {
                        List<Expr> items = new ArrayList<>(List.of(e));
                        while (skipOp(",")) {
                            if (peek().isOp(")")) break;
                            items.add(expression(true));
                        }
                        e = new Expr.ListLit(items, true, t.line());
                    }
                    expectOp(")");
                    return e;
                }
                if (t.text().equals("[")) {
                    List<Expr> items = new ArrayList<>();
                    while (!skipOp("]")) {
                        if (!items.isEmpty()) expectOp(",");
                        if (skipOp("]")) break;
                        items.add(expression(true));
                    }
                    return new Expr.ListLit(items, false, t.line());
                }
                if (t.text().equals("{")) {
                    List<Expr> keys = new ArrayList<>();
                    List<Expr> values = new ArrayList<>();
                    while (!skipOp("}")) {
                        if (!keys.isEmpty()) expectOp(",");
                        if (skipOp("}")) break;
                        keys.add(expression(true));
                        expectOp(":");
                        values.add(expression(true));
                    }
                    return new Expr.DictLit(keys, values, t.line());
                }
            }
            default -> { }
        }
        throw JinjaException.at(t.line(), "unexpected '" + t.text() + "'");
    }

    private Expr postfix(Expr e) {
        while (true) {
            Tok t = peek();
            if (t.isOp(".")) {
                i++;
                Tok n = next();
                if (n.kind() == Kind.NAME) e = new Expr.Attr(e, n.text(), t.line());
                else if (n.kind() == Kind.INT) e = new Expr.Item(e, new Expr.Const(Long.parseLong(n.text()), t.line()), t.line());
                else throw JinjaException.at(t.line(), "expected attribute name after '.'");
            } else if (t.isOp("[")) {
                i++;
                e = subscript(e, t.line());
            } else if (t.isOp("(")) {
                i++;
                e = call(e, t.line());
            } else {
                return e;
            }
        }
    }

    private Expr subscript(Expr target, int line) {
        Expr start = null;
        if (!peek().isOp(":")) {
            start = expression(true);
            if (skipOp("]")) return new Expr.Item(target, start, line);
        }
        expectOp(":");
        Expr stop = peek().isOp(":") || peek().isOp("]") ? null : expression(true);
        Expr step = null;
        if (skipOp(":") && !peek().isOp("]")) step = expression(true);
        expectOp("]");
        return new Expr.Slice(target, start, stop, step, line);
    }

    private Expr.Call call(Expr fn, int line) {
        List<Expr> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Expr> kwValues = new ArrayList<>();
        callArgs(args, kwNames, kwValues);
        return new Expr.Call(fn, args, kwNames, kwValues, line);
    }

    /** Arguments after an opening parenthesis, through the closing one. */
    private void callArgs(List<Expr> args, List<String> kwNames, List<Expr> kwValues) {
        boolean first = true;
        while (!skipOp(")")) {
            if (!first) {
                expectOp(",");
                if (skipOp(")")) break;
            }
            first = false;
            if (peek().kind() == Kind.NAME && peek(1).isOp("=")) {
                kwNames.add(next().text());
                i++;
                kwValues.add(expression(true));
            } else {
                if (!kwNames.isEmpty()) throw error("positional argument after keyword argument");
                args.add(expression(true));
            }
        }
    }

    private Expr filtersAndTests(Expr e) {
        while (true) {
            if (peek().isOp("|")) {
                i++;
                e = filter(e);
            } else if (peek().isName("is")) {
                int line = next().line();
                boolean neg = skipName("not");
                String name = expectName();
                while (skipOp(".")) name += "." + expectName();
                List<Expr> args = new ArrayList<>();
                Tok t = peek();
                if (skipOp("(")) {
                    callArgs(args, new ArrayList<>(), new ArrayList<>());
                } else if ((t.kind() == Kind.NAME || t.kind() == Kind.STRING || t.kind() == Kind.INT || t.kind() == Kind.FLOAT
                    || t.isOp("[") || t.isOp("{")) && !t.isName("else") && !t.isName("or") && !t.isName("and")
                    && !t.isName("is") && !t.isName("if")) {
                    args.add(postfix(primary()));
                }
                e = new Expr.Test(e, name, args, neg, line);
            } else if (peek().isOp("(")) {
                int line = next().line();
                e = call(e, line);
            } else {
                return e;
            }
        }
    }

    private Expr.Filter filter(Expr target) {
        int line = peek().line();
        String name = expectName();
        while (skipOp(".")) name += "." + expectName();
        List<Expr> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Expr> kwValues = new ArrayList<>();
        if (skipOp("(")) callArgs(args, kwNames, kwValues);
        return new Expr.Filter(target, name, args, kwNames, kwValues, line);
    }
}
