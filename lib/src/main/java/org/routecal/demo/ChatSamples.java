package org.routecal.demo;

import java.util.ArrayList;
import java.util.List;

/** English chat conversations and short prose, from templates and word lists written for this project. */
final class ChatSamples {
    private ChatSamples() {}

    private record Topic(String subject, List<String> tips) {}

    private static final List<Topic> TOPICS = List.of(
            new Topic("learning to cook", List.of("Start with a few simple recipes and repeat them until they feel easy.",
                    "Keep your knives sharp; a dull knife is slower and more dangerous.",
                    "Taste as you go and adjust salt and acid at the end.",
                    "Prepare all ingredients before you turn on the stove.",
                    "Cook rice, eggs and vegetables well before trying complex dishes.")),
            new Topic("running a first 10 km race", List.of("Build up your weekly distance slowly, by about ten percent.",
                    "Run most of your training at an easy, conversational pace.",
                    "Add one longer run each week.", "Rest days matter as much as training days.",
                    "Try your race shoes and breakfast during training, not on race day.")),
            new Topic("studying for exams", List.of("Test yourself instead of rereading your notes.",
                    "Spread your study sessions over several days.", "Explain each topic aloud in simple words.",
                    "Work through old exam questions under a time limit.", "Sleep well the night before.")),
            new Topic("saving money", List.of("Write down what you spend for one month.",
                    "Move a fixed amount to savings on payday.", "Cancel subscriptions you no longer use.",
                    "Compare prices before large purchases.", "Cook at home more often.")),
            new Topic("starting a vegetable garden", List.of("Choose a spot with at least six hours of sun.",
                    "Begin with easy plants such as lettuce, beans and tomatoes.",
                    "Improve the soil with compost before planting.", "Water deeply but not every day.",
                    "Keep a notebook of what you planted and when.")),
            new Topic("sleeping better", List.of("Go to bed and get up at the same time every day.",
                    "Keep the bedroom dark, quiet and cool.", "Avoid coffee in the afternoon.",
                    "Put screens away half an hour before bed.", "Get daylight in the morning.")),
            new Topic("writing a clear email", List.of("Put the request in the first sentence.",
                    "Use a subject line that says what you need.", "Keep paragraphs short.",
                    "Say who should do what by when.", "Read it once more before sending.")));

    private static final List<String> SYSTEM_PROMPTS = List.of("You are a helpful assistant.",
            "You are a friendly assistant. Answer concisely.", "You are a patient tutor.");

    private static final List<String> ADJECTIVES = List.of("quiet", "old", "bright", "narrow", "busy", "small",
            "green", "cold", "warm", "crowded", "empty", "distant");
    private static final List<String> PLACES = List.of("street", "harbour", "garden", "station", "library", "market",
            "village", "bridge", "hill", "kitchen", "workshop", "river");
    private static final List<String> PEOPLE = List.of("the baker", "a student", "my neighbour", "the old teacher",
            "a young engineer", "the postman", "her brother", "the children");
    private static final List<String> ACTIONS = List.of("walks slowly past", "waits near", "paints a picture of",
            "talks about", "takes a photo of", "remembers", "cleans", "looks for a friend at");
    private static final List<String> TIMES = List.of("In the morning", "After lunch", "Every Sunday", "Late at night",
            "Before the rain", "At dawn", "On Friday evening");

    static DemoSample next(DemoRandom rnd) {
        if (rnd.chance(0.3)) return DemoSample.text("chat", "en", prose(rnd));
        Topic topic = rnd.pick(TOPICS);
        List<DemoSample.Message> msgs = new ArrayList<>();
        if (rnd.chance(0.4)) msgs.add(DemoSample.Message.of("system", rnd.pick(SYSTEM_PROMPTS)));
        msgs.add(DemoSample.Message.of("user", rnd.pick("Any tips for ", "How do I get better at ", "I need advice on ",
                "What should a beginner know about ") + topic.subject() + "?"));
        int n = rnd.between(2, 4);
        StringBuilder answer = new StringBuilder(rnd.pick("Sure! ", "Good question. ", "Here are a few ideas. ", ""));
        for (int i = 0; i < n; i++) {
            answer.append("\n").append(i + 1).append(". ").append(topic.tips().get((i * 2 + rnd.nextInt(5)) % 5));
        }
        String reasoning = rnd.chance(0.25) ? "The user asks about " + topic.subject() + ". I should give " + n
                + " short, practical tips." : null;
        msgs.add(new DemoSample.Message("assistant", answer.toString(), reasoning));
        if (rnd.chance(0.4)) {
            msgs.add(DemoSample.Message.of("user", rnd.pick("Thanks! Which one matters most?", "Can you say more about the first one?")));
            msgs.add(DemoSample.Message.of("assistant", "I would start with this: " + topic.tips().get(rnd.nextInt(5))));
        }
        return DemoSample.chat("chat", "en", msgs);
    }

    /** A short English paragraph of templated sentences. */
    static String prose(DemoRandom rnd) {
        int n = rnd.between(3, 6);
        List<String> sentences = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String s = rnd.pick(TIMES) + ", " + rnd.pick(PEOPLE) + " " + rnd.pick(ACTIONS) + " the " + rnd.pick(ADJECTIVES)
                    + " " + rnd.pick(PLACES) + ".";
            sentences.add(rnd.chance(0.3) ? s : rnd.pick(MultilingualTexts.PARALLEL_EN));
        }
        return String.join(" ", sentences);
    }
}
