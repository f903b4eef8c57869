package org.routecal.demo;

import java.util.List;
import java.util.Locale;

/** Math problems with worked answers, computed exactly (integers and reduced fractions), written for this project. */
final class MathSamples {
    private MathSamples() {}

    private static final List<String> NAMES = List.of("Anna", "Ben", "Chen", "Dara", "Elif", "Femi", "Greta", "Hugo",
            "Ines", "Jonas", "Kiri", "Leo", "Maya", "Nikos", "Olga", "Priya");
    private static final List<String> ITEMS = List.of("notebooks", "apples", "pencils", "tickets", "stamps", "books",
            "cups", "plants");

    /** A problem and its step-by-step solution. */
    private record Problem(String question, String steps, String answer) {}

    static DemoSample next(DemoRandom rnd) {
        Problem p = switch (rnd.nextInt(7)) {
            case 0 -> orderOfOperations(rnd);
            case 1 -> linearEquation(rnd);
            case 2 -> percentage(rnd);
            case 3 -> fractions(rnd);
            case 4 -> shopping(rnd);
            case 5 -> quadratic(rnd);
            default -> rectangle(rnd);
        };
        int style = rnd.nextInt(3);
        if (style == 0) {
            return DemoSample.text("math", "en", "Problem: " + p.question() + "\nSolution: " + p.steps()
                    + "\nAnswer: " + p.answer());
        }
        String reasoning = style == 1 ? p.steps() : null;
        String answer = style == 1 ? "The answer is " + p.answer() + "." : p.steps() + "\nSo the answer is " + p.answer() + ".";
        return DemoSample.chat("math", "en", List.of(
                DemoSample.Message.of("user", p.question()),
                new DemoSample.Message("assistant", answer, reasoning)));
    }

    private static Problem orderOfOperations(DemoRandom rnd) {
        int a = rnd.between(2, 99), b = rnd.between(2, 12), c = rnd.between(2, 12);
        int bc = b * c;
        return new Problem("What is " + a + " + " + b + " × " + c + "?",
                "Multiplication comes first: " + b + " × " + c + " = " + bc + ". Then " + a + " + " + bc + " = "
                        + (a + bc) + ".", Integer.toString(a + bc));
    }

    private static Problem linearEquation(DemoRandom rnd) {
        int a = rnd.between(2, 9), x = rnd.between(-12, 15), b = rnd.between(-30, 30);
        int c = a * x + b;
        String lhs = a + "x " + (b < 0 ? "- " + (-b) : "+ " + b);
        return new Problem("Solve for x: " + lhs + " = " + c,
                (b < 0 ? "Add " + (-b) : "Subtract " + b) + " on both sides: " + a + "x = " + (c - b)
                        + ". Divide by " + a + ": x = " + (c - b) + "/" + a + " = " + x + ".", "x = " + x);
    }

    private static Problem percentage(DemoRandom rnd) {
        int p = rnd.pick(List.of(5, 10, 12, 15, 20, 25, 30, 40, 50, 75));
        int n = rnd.between(1, 40) * 20;
        int r = p * n / 100;
        boolean exact = p * n % 100 == 0;
        String value = exact ? Integer.toString(r) : String.format(Locale.ROOT, "%.2f", p * n / 100.0);
        return new Problem("What is " + p + "% of " + n + "?",
                p + "% means " + p + "/100, so " + p + "/100 × " + n + " = " + (p * n) + "/100 = " + value + ".", value);
    }

    private static Problem fractions(DemoRandom rnd) {
        int a = rnd.between(1, 9), b = rnd.between(2, 12), c = rnd.between(1, 9), d = rnd.between(2, 12);
        int num = a * d + c * b, den = b * d, g = gcd(num, den);
        String sum = (num / g) + "/" + (den / g);
        return new Problem("Compute " + a + "/" + b + " + " + c + "/" + d + " and simplify.",
                "Use the common denominator " + b + " · " + d + " = " + den + ": " + a + "/" + b + " + " + c + "/" + d
                        + " = (" + a + "·" + d + " + " + c + "·" + b + ")/" + den + " = " + num + "/" + den
                        + ". The greatest common divisor is " + g + ", so the result is " + sum + ".", sum);
    }

    private static Problem shopping(DemoRandom rnd) {
        String name = rnd.pick(NAMES), item = rnd.pick(ITEMS);
        int price = rnd.between(2, 25), n = rnd.between(2, 14), paid = ((price * n) / 50 + 1) * 50;
        return new Problem(name + " buys " + n + " " + item + " at $" + price + " each and pays with $" + paid
                + ". How much change does " + name + " get?",
                "The cost is " + n + " × $" + price + " = $" + (n * price) + ". The change is $" + paid + " - $"
                        + (n * price) + " = $" + (paid - n * price) + ".", "$" + (paid - n * price));
    }

    private static Problem quadratic(DemoRandom rnd) {
        int r1 = rnd.between(-9, 9), r2 = rnd.between(-9, 9);
        int s = r1 + r2, p = r1 * r2;
        String eq = "x^2 " + (s > 0 ? "- " + s + "x " : s < 0 ? "+ " + (-s) + "x " : "") + (p >= 0 ? "+ " + p : "- " + (-p)) + " = 0";
        int lo = Math.min(r1, r2), hi = Math.max(r1, r2);
        return new Problem("Find the roots of " + eq + ".",
                "We need two numbers with sum " + s + " and product " + p + ": " + lo + " and " + hi
                        + ". So (x " + (lo < 0 ? "+ " + (-lo) : "- " + lo) + ")(x " + (hi < 0 ? "+ " + (-hi) : "- " + hi)
                        + ") = 0.", lo == hi ? "x = " + lo : "x = " + lo + " or x = " + hi);
    }

    private static Problem rectangle(DemoRandom rnd) {
        int w = rnd.between(2, 40), h = rnd.between(2, 40);
        return new Problem("A rectangle is " + w + " cm wide and " + h + " cm tall. What are its area and perimeter?",
                "Area = " + w + " × " + h + " = " + (w * h) + " cm². Perimeter = 2 × (" + w + " + " + h + ") = "
                        + (2 * (w + h)) + " cm.", (w * h) + " cm² and " + (2 * (w + h)) + " cm");
    }

    static int gcd(int a, int b) {
        return b == 0 ? Math.abs(a) : gcd(b, a % b);
    }
}
