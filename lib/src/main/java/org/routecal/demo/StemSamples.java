package org.routecal.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Science facts and small computed physics/chemistry exercises, written for this project. */
final class StemSamples {
    private StemSamples() {}

    private record Element(String name, String symbol, int number, String mass) {}

    private static final List<Element> ELEMENTS = List.of(
            new Element("hydrogen", "H", 1, "1.008"), new Element("helium", "He", 2, "4.003"),
            new Element("carbon", "C", 6, "12.011"), new Element("nitrogen", "N", 7, "14.007"),
            new Element("oxygen", "O", 8, "15.999"), new Element("sodium", "Na", 11, "22.990"),
            new Element("magnesium", "Mg", 12, "24.305"), new Element("aluminium", "Al", 13, "26.982"),
            new Element("silicon", "Si", 14, "28.085"), new Element("sulfur", "S", 16, "32.06"),
            new Element("chlorine", "Cl", 17, "35.45"), new Element("calcium", "Ca", 20, "40.078"),
            new Element("iron", "Fe", 26, "55.845"), new Element("copper", "Cu", 29, "63.546"),
            new Element("zinc", "Zn", 30, "65.38"), new Element("silver", "Ag", 47, "107.87"),
            new Element("gold", "Au", 79, "196.97"), new Element("lead", "Pb", 82, "207.2"));

    private static final List<String> FACTS = List.of(
            "Water is made of two hydrogen atoms and one oxygen atom, so its formula is H2O.",
            "Light travels at about 300,000 kilometres per second in a vacuum.",
            "Photosynthesis turns carbon dioxide and water into glucose and oxygen using light energy.",
            "The mitochondria produce most of the chemical energy a cell uses, stored as ATP.",
            "DNA is a double helix built from four bases: adenine, thymine, guanine and cytosine.",
            "An object in free fall near the Earth's surface accelerates at about 9.81 m/s².",
            "Ohm's law states that voltage equals current times resistance, V = I · R.",
            "The Earth orbits the Sun once every 365.25 days.",
            "Sound travels at about 343 metres per second in air at 20 °C.",
            "A prime number has exactly two divisors: one and itself.",
            "Enzymes are proteins that speed up chemical reactions without being used up.",
            "The boiling point of water at sea level is 100 °C.",
            "Kinetic energy is one half of mass times velocity squared, E = ½ m v².",
            "Plate tectonics explains earthquakes, volcanoes and the drift of continents.",
            "A transistor is a semiconductor switch; modern chips contain billions of them.",
            "The pH scale runs from 0 to 14, and pure water has a pH of 7.",
            "Newton's third law says every action has an equal and opposite reaction.",
            "Vaccines train the immune system to recognise a pathogen before an infection.",
            "The Moon's gravity causes most of the tides in the Earth's oceans.",
            "Entropy in an isolated system never decreases, by the second law of thermodynamics.");

    static DemoSample next(DemoRandom rnd) {
        List<String> parts = new ArrayList<>();
        int facts = rnd.between(1, 3);
        for (int i = 0; i < facts; i++) parts.add(rnd.pick(FACTS));
        parts.add(rnd.nextInt(parts.size() + 1), exercise(rnd));
        String body = String.join(" ", parts);
        if (rnd.chance(0.6)) return DemoSample.text("stem", "en", body);
        return DemoSample.chat("stem", "en", List.of(
                DemoSample.Message.of("user", rnd.pick("Explain this briefly.", "Can you check my notes?",
                        "Summarise the key points.", "Is this correct?") + "\n\n" + body),
                DemoSample.Message.of("assistant", "Yes. " + String.join(" ", parts.subList(0, Math.min(2, parts.size()))))));
    }

    private static String exercise(DemoRandom rnd) {
        switch (rnd.nextInt(5)) {
            case 0: {
                Element e = rnd.pick(ELEMENTS);
                return "The element " + e.name() + " (" + e.symbol() + ") has atomic number " + e.number()
                        + " and an atomic mass of " + e.mass() + " u, so a neutral atom has " + e.number() + " electrons.";
            }
            case 1: {
                int m = rnd.between(1, 50), a = rnd.between(1, 20);
                return "A force on a mass of " + m + " kg giving an acceleration of " + a + " m/s² is F = m · a = "
                        + m + " · " + a + " = " + (m * a) + " N.";
            }
            case 2: {
                int v = rnd.between(1, 24) * 6, r = rnd.between(1, 12) * 2;
                return "With " + v + " V across a resistance of " + r + " Ω, the current is I = V / R = "
                        + String.format(Locale.ROOT, "%.2f", v / (double) r) + " A.";
            }
            case 3: {
                int km = rnd.between(1, 300), min = rnd.between(10, 240);
                return "A trip of " + km + " km in " + min + " minutes has an average speed of "
                        + String.format(Locale.ROOT, "%.1f", km * 60.0 / min) + " km/h.";
            }
            default: {
                int c = rnd.between(-40, 120);
                return c + " °C is " + String.format(Locale.ROOT, "%.1f", c * 9.0 / 5.0 + 32) + " °F and "
                        + String.format(Locale.ROOT, "%.2f", c + 273.15) + " K.";
            }
        }
    }
}
