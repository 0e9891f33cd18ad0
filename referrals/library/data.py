"""The shipped exercise library data."""

from __future__ import annotations

from typing import Final, TypedDict


class ExerciseSeed(TypedDict):
    slug: str
    name: str
    category: str
    body_region: str
    equipment: str
    instructions: str


LIBRARY_VERSION: Final = "2"


EXERCISES: Final[tuple[ExerciseSeed, ...]] = (
    {
        "slug": "ankle-alphabet",
        "name": "Ankle Alphabet",
        "category": "mobility",
        "body_region": "ankle_foot",
        "equipment": "chair",
        "instructions": (
            "Sit tall on a chair with one leg straight out and the heel resting lightly on the floor. "
            "Draw each letter of the alphabet in the air with your big toe, moving only at the ankle. "
            "Keep the knee and hip still so the ankle does all the work."
        ),
    },
    {
        "slug": "cat-camel",
        "name": "Cat-Camel",
        "category": "mobility",
        "body_region": "lumbar_spine",
        "equipment": "mat",
        "instructions": (
            "Start on hands and knees with hands under shoulders and knees under hips. Slowly round your "
            "back toward the ceiling while the head drops, then let the chest sink and lift your gaze. "
            "Move through a comfortable range and keep the motion slow and even."
        ),
    },
    {
        "slug": "open-book-thoracic-rotation",
        "name": "Open Book Thoracic Rotation",
        "category": "mobility",
        "body_region": "thoracic_spine",
        "equipment": "mat",
        "instructions": (
            "Lie on your side with knees bent to ninety degrees and both arms reaching forward together. "
            "Sweep the top arm up and over to open the chest toward the ceiling, following the hand with "
            "your eyes. Keep the knees stacked so the turn comes from the upper back."
        ),
    },
    {
        "slug": "quadruped-thoracic-rotation",
        "name": "Quadruped Thoracic Rotation",
        "category": "mobility",
        "body_region": "thoracic_spine",
        "equipment": "mat",
        "instructions": (
            "Kneel on all fours and place one hand behind your head. Rotate that elbow down toward the "
            "opposite wrist, then turn it up toward the ceiling. Keep your hips level over your knees and "
            "avoid shifting your weight sideways."
        ),
    },
    {
        "slug": "wall-slides",
        "name": "Wall Slides",
        "category": "mobility",
        "body_region": "shoulder",
        "equipment": "wall",
        "instructions": (
            "Stand with your back and forearms against a wall, elbows bent and at shoulder height. Slide "
            "the arms upward as far as you can while keeping the forearms in contact with the wall, then "
            "lower with control. Keep the ribs down and avoid arching the lower back."
        ),
    },
    {
        "slug": "chin-tucks",
        "name": "Chin Tucks",
        "category": "mobility",
        "body_region": "neck",
        "equipment": "none",
        "instructions": (
            "Sit or stand tall with your shoulders relaxed and eyes looking straight ahead. Gently glide "
            "your chin straight back as if making a double chin, hold briefly, then release. Keep the "
            "head level rather than tipping it up or down."
        ),
    },
    {
        "slug": "seated-neck-rotation",
        "name": "Seated Neck Rotation",
        "category": "mobility",
        "body_region": "neck",
        "equipment": "chair",
        "instructions": (
            "Sit upright on a chair with both feet flat and shoulders relaxed. Turn your head slowly to "
            "look over one shoulder, pause, then return to center and repeat to the other side. Stay "
            "within a range that feels easy and keep the shoulders from turning."
        ),
    },
    {
        "slug": "pendulum-swings",
        "name": "Pendulum Swings",
        "category": "mobility",
        "body_region": "shoulder",
        "equipment": "table",
        "instructions": (
            "Stand beside a table and lean forward, resting one hand on it for support while the other "
            "arm hangs down. Shift your body gently so the hanging arm swings in small circles and then "
            "side to side. Let the arm stay relaxed and move because of your body, not by lifting it."
        ),
    },
    {
        "slug": "quadruped-hip-circles",
        "name": "Quadruped Hip Circles",
        "category": "mobility",
        "body_region": "hip",
        "equipment": "mat",
        "instructions": (
            "Begin on hands and knees with a neutral spine. Lift one knee slightly and draw a slow, wide "
            "circle with it, moving forward, out to the side, and back. Keep the pelvis and trunk steady "
            "while only the hip moves."
        ),
    },
    {
        "slug": "heel-slides",
        "name": "Heel Slides",
        "category": "mobility",
        "body_region": "knee",
        "equipment": "mat",
        "instructions": (
            "Lie on your back with both legs straight. Slide one heel along the floor toward your buttock "
            "to bend the knee, then slide it back out until the leg is straight. Move smoothly and keep "
            "the heel in contact with the floor."
        ),
    },
    {
        "slug": "pelvic-tilts",
        "name": "Pelvic Tilts",
        "category": "mobility",
        "body_region": "lumbar_spine",
        "equipment": "mat",
        "instructions": (
            "Lie on your back with knees bent and feet flat on the floor. Gently flatten your lower back "
            "into the floor by tilting the pelvis, then let it return to a small arch. Breathe steadily "
            "and keep the movement small and controlled."
        ),
    },
    {
        "slug": "foam-roller-thoracic-extension",
        "name": "Foam Roller Thoracic Extension",
        "category": "mobility",
        "body_region": "thoracic_spine",
        "equipment": "foam roller",
        "instructions": (
            "Sit on the floor with a foam roller placed across your upper back and hands supporting your "
            "head. Lean back over the roller to extend the upper back, then return to the start. Keep the "
            "hips on the floor and avoid bending over the roller at the lower back."
        ),
    },
    {
        "slug": "active-wrist-flexion-and-extension",
        "name": "Active Wrist Flexion and Extension",
        "category": "mobility",
        "body_region": "wrist_hand",
        "equipment": "none",
        "instructions": (
            "Rest your forearm on a table with the hand hanging over the edge, palm down. Bend the wrist "
            "to lift the hand up, then lower it down as far as is comfortable. Keep the forearm still and "
            "move slowly through the whole range."
        ),
    },
    {
        "slug": "tendon-glides",
        "name": "Tendon Glides",
        "category": "mobility",
        "body_region": "wrist_hand",
        "equipment": "none",
        "instructions": (
            "Hold your hand up with fingers straight and pointing to the ceiling. Move through a sequence "
            "of positions: a hook fist, a full fist, a flat fist, and back to straight fingers. Move "
            "gently between each position without forcing the end range."
        ),
    },
    {
        "slug": "forearm-pronation-and-supination",
        "name": "Forearm Pronation and Supination",
        "category": "mobility",
        "body_region": "elbow",
        "equipment": "none",
        "instructions": (
            "Sit with your elbow bent to ninety degrees and tucked against your side. Turn the palm up "
            "toward the ceiling, then down toward the floor. Keep the elbow pinned to your side so the "
            "rotation happens in the forearm."
        ),
    },
    {
        "slug": "9090-hip-switches",
        "name": "90/90 Hip Switches",
        "category": "mobility",
        "body_region": "hip",
        "equipment": "mat",
        "instructions": (
            "Sit on the floor with both knees bent to about ninety degrees and tipped to one side. Rotate "
            "both knees over to the other side in a slow windshield-wiper motion, using your hands behind "
            "you for support if needed. Sit tall and keep the movement smooth."
        ),
    },
    {
        "slug": "knee-to-wall-ankle-mobilization",
        "name": "Knee-to-Wall Ankle Mobilization",
        "category": "mobility",
        "body_region": "ankle_foot",
        "equipment": "wall",
        "instructions": (
            "Stand facing a wall in a short split stance with the front toes a few inches from the wall. "
            "Bend the front knee forward to touch the wall while keeping the heel down. Track the knee "
            "over the middle toes and move the foot back only when this feels easy."
        ),
    },
    {
        "slug": "standing-calf-stretch",
        "name": "Standing Calf Stretch",
        "category": "stretching",
        "body_region": "ankle_foot",
        "equipment": "wall",
        "instructions": (
            "Stand facing a wall with hands on it and one foot stepped back, heel down and toes forward. "
            "Lean your hips toward the wall until you feel a stretch in the back of the lower leg. Keep "
            "the back knee straight and hold the position without bouncing."
        ),
    },
    {
        "slug": "bent-knee-soleus-stretch",
        "name": "Bent-Knee Soleus Stretch",
        "category": "stretching",
        "body_region": "ankle_foot",
        "equipment": "wall",
        "instructions": (
            "Stand facing a wall in a short split stance with both heels on the floor. Bend both knees "
            "and sink down until you feel a stretch low in the back calf. Keep the back heel planted "
            "throughout the hold."
        ),
    },
    {
        "slug": "supine-hamstring-stretch",
        "name": "Supine Hamstring Stretch",
        "category": "stretching",
        "body_region": "hip",
        "equipment": "strap",
        "instructions": (
            "Lie on your back with a strap looped around the ball of one foot. Raise the leg with the "
            "knee mostly straight until you feel a stretch behind the thigh, and hold. Keep the other leg "
            "resting on the floor and avoid pulling hard on the strap."
        ),
    },
    {
        "slug": "half-kneeling-hip-flexor-stretch",
        "name": "Half-Kneeling Hip Flexor Stretch",
        "category": "stretching",
        "body_region": "hip",
        "equipment": "mat",
        "instructions": (
            "Kneel on one knee on a mat with the other foot flat in front of you. Tuck the pelvis "
            "slightly and shift your weight forward until you feel a stretch at the front of the kneeling "
            "hip. Keep your trunk upright and avoid arching the lower back."
        ),
    },
    {
        "slug": "pec-doorway-stretch",
        "name": "Pec Doorway Stretch",
        "category": "stretching",
        "body_region": "shoulder",
        "equipment": "doorway",
        "instructions": (
            "Stand in a doorway with forearms resting on the frame and elbows near shoulder height. Step "
            "one foot through and lean gently forward until you feel a stretch across the chest. Keep the "
            "shoulders down and relaxed rather than letting them creep toward your ears."
        ),
    },
    {
        "slug": "upper-trapezius-stretch",
        "name": "Upper Trapezius Stretch",
        "category": "stretching",
        "body_region": "neck",
        "equipment": "chair",
        "instructions": (
            "Sit tall and hold the edge of the chair seat with one hand. Tilt your head so the opposite "
            "ear moves toward the opposite shoulder until you feel a stretch along the side of the neck. "
            "Keep the held shoulder down and breathe slowly."
        ),
    },
    {
        "slug": "levator-scapulae-stretch",
        "name": "Levator Scapulae Stretch",
        "category": "stretching",
        "body_region": "neck",
        "equipment": "none",
        "instructions": (
            "Sit or stand tall and turn your head about halfway toward one armpit. Gently lower your nose "
            "toward that armpit until you feel a stretch at the back and side of the neck. Use light "
            "pressure only and keep the opposite shoulder relaxed."
        ),
    },
    {
        "slug": "figure-four-piriformis-stretch",
        "name": "Figure-Four Piriformis Stretch",
        "category": "stretching",
        "body_region": "hip",
        "equipment": "mat",
        "instructions": (
            "Lie on your back with knees bent and cross one ankle over the opposite knee. Draw the lower "
            "leg toward your chest until you feel a stretch in the buttock of the crossed leg. Keep your "
            "head and shoulders relaxed on the mat."
        ),
    },
    {
        "slug": "standing-quadriceps-stretch",
        "name": "Standing Quadriceps Stretch",
        "category": "stretching",
        "body_region": "knee",
        "equipment": "wall",
        "instructions": (
            "Stand beside a wall with one hand on it for balance. Bend one knee and hold the ankle or a "
            "strap to bring the heel toward your buttock. Keep the knees close together and the pelvis "
            "tucked slightly."
        ),
    },
    {
        "slug": "childs-pose",
        "name": "Child's Pose",
        "category": "stretching",
        "body_region": "lumbar_spine",
        "equipment": "mat",
        "instructions": (
            "Kneel on a mat with big toes together and knees apart. Sit your hips back toward your heels "
            "and walk your hands forward, letting your chest lower toward the floor. Breathe slowly and "
            "rest in the position without forcing the hips down."
        ),
    },
    {
        "slug": "cross-body-shoulder-stretch",
        "name": "Cross-Body Shoulder Stretch",
        "category": "stretching",
        "body_region": "shoulder",
        "equipment": "none",
        "instructions": (
            "Stand or sit tall and bring one arm across your chest at shoulder height. Use the other hand "
            "to draw the arm gently closer until you feel a stretch at the back of the shoulder. Keep the "
            "shoulder blade down and avoid twisting the trunk."
        ),
    },
    {
        "slug": "wrist-flexor-stretch",
        "name": "Wrist Flexor Stretch",
        "category": "stretching",
        "body_region": "wrist_hand",
        "equipment": "none",
        "instructions": (
            "Hold one arm straight in front of you with the palm facing up. Use the other hand to ease "
            "the fingers down and back until you feel a stretch along the inner forearm. Keep the elbow "
            "straight but not locked and hold gently."
        ),
    },
    {
        "slug": "wrist-extensor-stretch",
        "name": "Wrist Extensor Stretch",
        "category": "stretching",
        "body_region": "elbow",
        "equipment": "none",
        "instructions": (
            "Hold one arm straight in front of you with the palm facing down. Use the other hand to bend "
            "the wrist downward until you feel a stretch along the top of the forearm near the elbow. "
            "Ease into the stretch rather than pulling sharply."
        ),
    },
    {
        "slug": "side-lying-sleeper-stretch",
        "name": "Side-Lying Sleeper Stretch",
        "category": "stretching",
        "body_region": "shoulder",
        "equipment": "mat",
        "instructions": (
            "Lie on one side with the bottom arm out in front at shoulder height and the elbow bent to "
            "ninety degrees. Use the top hand to gently lower the bottom forearm toward the floor. Stop "
            "at a mild stretch at the back of the shoulder and keep the shoulder blade settled."
        ),
    },
    {
        "slug": "standing-side-bend",
        "name": "Standing Side Bend",
        "category": "stretching",
        "body_region": "thoracic_spine",
        "equipment": "none",
        "instructions": (
            "Stand with feet hip-width apart and reach one arm overhead. Lean the trunk to the opposite "
            "side until you feel a stretch along the side of the body. Keep the hips centered and avoid "
            "leaning forward or back."
        ),
    },
    {
        "slug": "single-leg-stance",
        "name": "Single-Leg Stance",
        "category": "balance",
        "body_region": "ankle_foot",
        "equipment": "none",
        "instructions": (
            "Stand next to a counter with fingertips resting on it for safety. Lift one foot off the "
            "floor and hold your balance on the other leg. Keep the standing knee soft and the pelvis "
            "level."
        ),
    },
    {
        "slug": "tandem-stance",
        "name": "Tandem Stance",
        "category": "balance",
        "body_region": "ankle_foot",
        "equipment": "none",
        "instructions": (
            "Stand near a counter and place one foot directly in front of the other, heel touching toe. "
            "Hold the position with arms relaxed, using the counter only if you need it. Keep your gaze "
            "forward on a fixed point."
        ),
    },
    {
        "slug": "tandem-walk",
        "name": "Tandem Walk",
        "category": "balance",
        "body_region": "full_body",
        "equipment": "none",
        "instructions": (
            "Stand tall beside a wall or counter for support. Walk forward by placing the heel of one "
            "foot directly in front of the toes of the other with each step. Move slowly and keep your "
            "eyes ahead rather than looking down at your feet."
        ),
    },
    {
        "slug": "backward-tandem-walk",
        "name": "Backward Tandem Walk",
        "category": "balance",
        "body_region": "full_body",
        "equipment": "none",
        "instructions": (
            "Stand beside a counter with one hand ready to touch it for support. Walk backward by placing "
            "the toes of one foot directly behind the heel of the other. Take small, deliberate steps and "
            "keep your trunk upright."
        ),
    },
    {
        "slug": "single-leg-stance-on-balance-pad",
        "name": "Single-Leg Stance on Balance Pad",
        "category": "balance",
        "body_region": "ankle_foot",
        "equipment": "balance pad",
        "instructions": (
            "Stand on a foam balance pad beside a counter or wall. Lift one foot and balance on the other "
            "leg on the soft surface. Let the ankle make small adjustments while the hips and trunk stay "
            "quiet."
        ),
    },
    {
        "slug": "single-leg-stance-with-eyes-closed",
        "name": "Single-Leg Stance with Eyes Closed",
        "category": "balance",
        "body_region": "ankle_foot",
        "equipment": "none",
        "instructions": (
            "Stand in a corner or beside a counter so support is within easy reach. Lift one foot, find "
            "your balance, and then close your eyes while holding the position. Open your eyes or touch "
            "the support as soon as you feel unsteady."
        ),
    },
    {
        "slug": "single-leg-clock-reach",
        "name": "Single-Leg Clock Reach",
        "category": "balance",
        "body_region": "knee",
        "equipment": "none",
        "instructions": (
            "Balance on one leg with a slight bend in the standing knee. Reach the free foot out to tap "
            "the floor lightly in several directions like the numbers on a clock. Keep the standing knee "
            "tracking over the toes and return to center between taps."
        ),
    },
    {
        "slug": "bodyweight-single-leg-hinge",
        "name": "Bodyweight Single-Leg Hinge",
        "category": "balance",
        "body_region": "hip",
        "equipment": "none",
        "instructions": (
            "Stand on one leg with the knee slightly bent and arms relaxed. Hinge forward at the hip "
            "while the free leg reaches back, then return to standing. Keep the hips square to the floor "
            "and the back flat."
        ),
    },
    {
        "slug": "bird-dog",
        "name": "Bird Dog",
        "category": "balance",
        "body_region": "core",
        "equipment": "mat",
        "instructions": (
            "Start on hands and knees with a neutral spine. Reach one arm forward and the opposite leg "
            "back until both are level with your trunk, then return. Keep the hips level and avoid "
            "arching the lower back."
        ),
    },
    {
        "slug": "obstacle-step-overs",
        "name": "Obstacle Step-Overs",
        "category": "balance",
        "body_region": "full_body",
        "equipment": "cones",
        "instructions": (
            "Set a row of low cones or soft objects on the floor about one step apart. Walk forward "
            "lifting each foot clearly over the obstacles. Keep a steady rhythm and look ahead to plan "
            "your next step."
        ),
    },
    {
        "slug": "single-leg-stance-with-ball-toss",
        "name": "Single-Leg Stance with Ball Toss",
        "category": "balance",
        "body_region": "full_body",
        "equipment": "ball",
        "instructions": (
            "Stand on one leg facing a partner or a wall. Toss and catch a light ball while keeping your "
            "balance on the standing leg. Keep the standing knee soft and reset with both feet down if "
            "you lose balance."
        ),
    },
    {
        "slug": "side-to-side-weight-shifts",
        "name": "Side-to-Side Weight Shifts",
        "category": "balance",
        "body_region": "ankle_foot",
        "equipment": "none",
        "instructions": (
            "Stand with feet shoulder-width apart near a counter. Slowly shift your weight toward one "
            "foot until the other feels light, then shift to the other side. Keep the trunk upright and "
            "move from the ankles and hips."
        ),
    },
    {
        "slug": "wobble-board-rocking",
        "name": "Wobble Board Rocking",
        "category": "balance",
        "body_region": "ankle_foot",
        "equipment": "wobble board",
        "instructions": (
            "Stand on a wobble board with feet hip-width apart and a support within reach. Tilt the board "
            "gently forward and back, then side to side, without letting the edges hit the floor. Keep "
            "the knees slightly bent and the movements slow."
        ),
    },
    {
        "slug": "tall-kneeling-arm-reach",
        "name": "Tall Kneeling Arm Reach",
        "category": "balance",
        "body_region": "core",
        "equipment": "mat",
        "instructions": (
            "Kneel upright on a mat with hips stacked over the knees. Reach one arm forward and out to "
            "the side while keeping your balance, then alternate arms. Keep the glutes gently engaged and "
            "avoid sitting back toward the heels."
        ),
    },
    {
        "slug": "single-leg-stance-with-head-turns",
        "name": "Single-Leg Stance with Head Turns",
        "category": "balance",
        "body_region": "full_body",
        "equipment": "none",
        "instructions": (
            "Stand on one leg beside a counter for safety. Slowly turn your head to look left and right "
            "while keeping your balance. Keep the turns smooth and return the foot to the floor if you "
            "feel unsteady."
        ),
    },
    {
        "slug": "grapevine-walk",
        "name": "Grapevine Walk",
        "category": "balance",
        "body_region": "hip",
        "equipment": "none",
        "instructions": (
            "Stand sideways along a counter or hallway wall. Step sideways by crossing one foot in front "
            "of the other, then behind, in a repeating pattern. Move at a slow, even pace and keep the "
            "trunk facing forward."
        ),
    },
    {
        "slug": "heel-raises",
        "name": "Heel Raises",
        "category": "strength",
        "body_region": "ankle_foot",
        "equipment": "wall",
        "instructions": (
            "Stand facing a wall with fingertips on it and feet hip-width apart. Rise up onto the balls "
            "of your feet, pause, and lower your heels slowly to the floor. Keep your weight centered "
            "over the big and second toes rather than rolling outward."
        ),
    },
    {
        "slug": "clamshells",
        "name": "Clamshells",
        "category": "strength",
        "body_region": "hip",
        "equipment": "resistance band",
        "instructions": (
            "Lie on your side with hips and knees bent and a band looped just above the knees. Keeping "
            "the feet together, lift the top knee as far as you can without rolling the pelvis back, then "
            "lower slowly. Keep the hips stacked throughout."
        ),
    },
    {
        "slug": "dead-bug",
        "name": "Dead Bug",
        "category": "strength",
        "body_region": "core",
        "equipment": "mat",
        "instructions": (
            "Lie on your back with arms reaching to the ceiling and hips and knees bent to ninety "
            "degrees. Lower one arm overhead and the opposite leg toward the floor, then return and "
            "switch sides. Keep the lower back gently pressed toward the mat the whole time."
        ),
    },
    {
        "slug": "scapular-retraction",
        "name": "Scapular Retraction",
        "category": "strength",
        "body_region": "thoracic_spine",
        "equipment": "none",
        "instructions": (
            "Sit or stand tall with arms relaxed by your sides. Draw the shoulder blades back and "
            "slightly down toward each other, hold briefly, then release. Avoid shrugging the shoulders "
            "or pushing the chin forward."
        ),
    },
    {
        "slug": "terminal-knee-extension",
        "name": "Terminal Knee Extension",
        "category": "strength",
        "body_region": "knee",
        "equipment": "resistance band",
        "instructions": (
            "Loop a band around a fixed post and behind one knee, then step back so the band is taut with "
            "the knee slightly bent. Straighten the knee fully against the band and squeeze the thigh "
            "muscles, then ease back. Keep the heel on the floor throughout."
        ),
    },
    {
        "slug": "straight-leg-raise",
        "name": "Straight Leg Raise",
        "category": "strength",
        "body_region": "knee",
        "equipment": "mat",
        "instructions": (
            "Lie on your back with one knee bent and the other leg straight. Tighten the thigh of the "
            "straight leg and lift it to the height of the bent knee, then lower slowly. Keep the knee "
            "locked straight and the lower back relaxed."
        ),
    },
    {
        "slug": "glute-bridge",
        "name": "Glute Bridge",
        "category": "strength",
        "body_region": "hip",
        "equipment": "mat",
        "instructions": (
            "Lie on your back with knees bent and feet flat, hip-width apart. Press through your heels "
            "and lift your hips until your body forms a line from shoulders to knees, then lower with "
            "control. Squeeze the glutes at the top instead of arching the back."
        ),
    },
    {
        "slug": "banded-external-rotation",
        "name": "Banded External Rotation",
        "category": "strength",
        "body_region": "shoulder",
        "equipment": "resistance band",
        "instructions": (
            "Stand side-on to an anchored band holding it in the far hand with the elbow bent to ninety "
            "degrees and tucked to your side. Rotate the forearm outward away from your body, then return "
            "slowly. Keep the elbow pinned to your side and the wrist straight."
        ),
    },
    {
        "slug": "prone-y-t-w-raises",
        "name": "Prone Y-T-W Raises",
        "category": "strength",
        "body_region": "shoulder",
        "equipment": "bench",
        "instructions": (
            "Lie face down on an incline bench with light weights or no weight in your hands. Raise the "
            "arms in a Y shape, then a T shape, then pull the elbows back into a W shape. Lead with the "
            "shoulder blades and keep the neck long."
        ),
    },
    {
        "slug": "goblet-squat",
        "name": "Goblet Squat",
        "category": "strength",
        "body_region": "knee",
        "equipment": "kettlebell",
        "instructions": (
            "Stand with feet slightly wider than hips, holding a kettlebell close to your chest. Sit your "
            "hips back and down between your heels, then drive through the feet to stand. Keep the chest "
            "up and let the knees follow the line of the toes."
        ),
    },
    {
        "slug": "romanian-deadlift",
        "name": "Romanian Deadlift",
        "category": "strength",
        "body_region": "hip",
        "equipment": "barbell",
        "instructions": (
            "Stand holding a barbell at thigh height with a shoulder-width grip and soft knees. Push the "
            "hips back and slide the bar down the thighs until you feel tension in the hamstrings, then "
            "drive the hips forward to stand. Keep the back flat and the bar close to your legs."
        ),
    },
    {
        "slug": "leg-press",
        "name": "Leg Press",
        "category": "strength",
        "body_region": "knee",
        "equipment": "leg press machine",
        "instructions": (
            "Sit in the leg press with your back flat on the pad and feet hip-width apart on the "
            "platform. Lower the platform by bending the knees, then press it away until the legs are "
            "nearly straight. Avoid locking the knees and keep the lower back against the seat."
        ),
    },
    {
        "slug": "lat-pulldown",
        "name": "Lat Pulldown",
        "category": "strength",
        "body_region": "shoulder",
        "equipment": "cable machine",
        "instructions": (
            "Sit at the pulldown station with thighs secured and hands slightly wider than shoulders. "
            "Pull the bar down toward your upper chest while drawing the elbows toward your sides, then "
            "let it rise with control. Avoid leaning far back or pulling the bar behind your head."
        ),
    },
    {
        "slug": "seated-cable-row",
        "name": "Seated Cable Row",
        "category": "strength",
        "body_region": "thoracic_spine",
        "equipment": "cable machine",
        "instructions": (
            "Sit tall at the row station with knees slightly bent and arms extended to the handle. Pull "
            "the handle toward your lower ribs while squeezing the shoulder blades together, then return "
            "slowly. Keep the trunk still instead of rocking back and forth."
        ),
    },
    {
        "slug": "side-lying-hip-abduction",
        "name": "Side-Lying Hip Abduction",
        "category": "strength",
        "body_region": "hip",
        "equipment": "mat",
        "instructions": (
            "Lie on your side with the bottom knee bent and the top leg straight in line with your body. "
            "Lift the top leg toward the ceiling with the toes pointing forward, then lower slowly. Keep "
            "the hips stacked and avoid letting the leg drift forward."
        ),
    },
    {
        "slug": "front-plank",
        "name": "Front Plank",
        "category": "strength",
        "body_region": "core",
        "equipment": "mat",
        "instructions": (
            "Lie face down and lift onto your forearms and toes, elbows under shoulders. Hold a straight "
            "line from head to heels while breathing steadily. Avoid letting the hips sag or pike up; "
            "drop to the knees if needed."
        ),
    },
    {
        "slug": "modified-side-plank",
        "name": "Modified Side Plank",
        "category": "strength",
        "body_region": "core",
        "equipment": "mat",
        "instructions": (
            "Lie on your side propped on one forearm with knees bent behind you. Lift your hips so your "
            "body forms a line from head to knees, hold, then lower. Keep the elbow under the shoulder "
            "and the chest facing forward."
        ),
    },
    {
        "slug": "eccentric-wrist-extension",
        "name": "Eccentric Wrist Extension",
        "category": "strength",
        "body_region": "elbow",
        "equipment": "dumbbells",
        "instructions": (
            "Sit with your forearm resting on your thigh, palm down, holding a light dumbbell past the "
            "knee. Use the other hand to help lift the weight up, then slowly lower it on its own over a "
            "few seconds. Keep the forearm still and move only at the wrist."
        ),
    },
    {
        "slug": "putty-grip-squeeze",
        "name": "Putty Grip Squeeze",
        "category": "strength",
        "body_region": "wrist_hand",
        "equipment": "therapy putty",
        "instructions": (
            "Hold a ball of therapy putty in the palm of one hand. Squeeze the putty with all fingers, "
            "hold briefly, then relax and reshape it. Keep the wrist in a neutral position while you "
            "squeeze."
        ),
    },
    {
        "slug": "quad-sets",
        "name": "Quad Sets",
        "category": "strength",
        "body_region": "knee",
        "equipment": "mat",
        "instructions": (
            "Sit or lie with one leg straight and a small rolled towel under the knee. Tighten the thigh "
            "muscles to press the back of the knee into the towel, hold, then relax. Keep the rest of "
            "your body relaxed while the thigh does the work."
        ),
    },
    {
        "slug": "dumbbell-bench-press",
        "name": "Dumbbell Bench Press",
        "category": "strength",
        "body_region": "shoulder",
        "equipment": "dumbbells",
        "instructions": (
            "Lie on a flat bench with a dumbbell in each hand at chest level and feet planted on the "
            "floor. Press the weights up until the arms are straight, then lower them slowly back to "
            "chest level. Keep the shoulder blades drawn back against the bench."
        ),
    },
    {
        "slug": "supine-chin-tuck-head-lift",
        "name": "Supine Chin Tuck Head Lift",
        "category": "strength",
        "body_region": "neck",
        "equipment": "mat",
        "instructions": (
            "Lie on your back with knees bent and head resting on the mat. Tuck the chin gently and lift "
            "the head just off the mat, hold briefly, then lower. Keep the chin tucked so the head does "
            "not tip back."
        ),
    },
    {
        "slug": "banded-lateral-walk",
        "name": "Banded Lateral Walk",
        "category": "strength",
        "body_region": "hip",
        "equipment": "resistance band",
        "instructions": (
            "Place a band around your legs just above the ankles or knees and stand in a half squat. Step "
            "sideways, keeping tension on the band, and follow with the other foot. Keep the toes "
            "pointing forward and the trunk upright."
        ),
    },
    {
        "slug": "seated-hamstring-curl",
        "name": "Seated Hamstring Curl",
        "category": "strength",
        "body_region": "knee",
        "equipment": "hamstring curl machine",
        "instructions": (
            "Sit in the curl machine with the pad resting just above your heels and the knees lined up "
            "with the machine pivot. Bend the knees to pull the pad down and back, then return slowly. "
            "Keep your hips against the seat throughout."
        ),
    },
    {
        "slug": "dumbbell-shoulder-press",
        "name": "Dumbbell Shoulder Press",
        "category": "strength",
        "body_region": "shoulder",
        "equipment": "dumbbells",
        "instructions": (
            "Sit on a bench with back support, holding dumbbells at shoulder height with palms forward. "
            "Press the weights overhead until the arms are nearly straight, then lower with control. Keep "
            "the ribs down and avoid arching the lower back."
        ),
    },
    {
        "slug": "stationary-bike",
        "name": "Stationary Bike",
        "category": "cardio",
        "body_region": "full_body",
        "equipment": "stationary bike",
        "instructions": (
            "Adjust the seat so the knee stays slightly bent at the bottom of each pedal stroke. Pedal at "
            "a steady, comfortable pace for the prescribed time. Keep the resistance light enough that "
            "you can still speak in short sentences."
        ),
    },
    {
        "slug": "brisk-walking",
        "name": "Brisk Walking",
        "category": "cardio",
        "body_region": "full_body",
        "equipment": "none",
        "instructions": (
            "Choose a flat, even route and wear supportive shoes. Walk at a pace that raises your "
            "breathing while still letting you hold a conversation. Swing the arms naturally and keep "
            "your stride relaxed rather than overlong."
        ),
    },
    {
        "slug": "elliptical-trainer",
        "name": "Elliptical Trainer",
        "category": "cardio",
        "body_region": "full_body",
        "equipment": "elliptical",
        "instructions": (
            "Step onto the elliptical and hold the handles with feet flat on the pedals. Move the pedals "
            "in a smooth stride at a steady pace. Stand tall and keep your weight through the whole foot "
            "instead of the toes."
        ),
    },
    {
        "slug": "rowing-ergometer",
        "name": "Rowing Ergometer",
        "category": "cardio",
        "body_region": "full_body",
        "equipment": "rowing machine",
        "instructions": (
            "Sit on the rower with feet strapped in and arms reaching to the handle. Push with the legs "
            "first, then lean back slightly and draw the handle to your lower ribs, reversing the order "
            "to return. Keep the back tall and the stroke smooth."
        ),
    },
    {
        "slug": "aquatic-walking",
        "name": "Aquatic Walking",
        "category": "cardio",
        "body_region": "full_body",
        "equipment": "pool",
        "instructions": (
            "Stand in waist- to chest-deep water in a pool. Walk forward with long, steady steps, "
            "swinging the arms as you would on land. Keep your posture upright and stay where your feet "
            "can reach the floor."
        ),
    },
    {
        "slug": "deep-water-running",
        "name": "Deep Water Running",
        "category": "cardio",
        "body_region": "full_body",
        "equipment": "pool",
        "instructions": (
            "Wear a flotation belt in water deep enough that your feet do not touch the floor. Move the "
            "arms and legs in a running motion to travel slowly forward. Keep the trunk upright rather "
            "than leaning forward."
        ),
    },
    {
        "slug": "recumbent-stepper",
        "name": "Recumbent Stepper",
        "category": "cardio",
        "body_region": "full_body",
        "equipment": "recumbent stepper",
        "instructions": (
            "Sit on the stepper with your back against the seat and feet secured on the pedals. Push "
            "alternately with the arms and legs in a steady rhythm. Choose a resistance that lets you "
            "keep an even pace for the full session."
        ),
    },
    {
        "slug": "upper-body-ergometer",
        "name": "Upper Body Ergometer",
        "category": "cardio",
        "body_region": "shoulder",
        "equipment": "arm ergometer",
        "instructions": (
            "Sit facing the arm ergometer with the handles at shoulder height. Turn the handles in a "
            "steady circular motion, forward and then backward. Keep the shoulders relaxed and the trunk "
            "still."
        ),
    },
    {
        "slug": "treadmill-incline-walk",
        "name": "Treadmill Incline Walk",
        "category": "cardio",
        "body_region": "full_body",
        "equipment": "treadmill",
        "instructions": (
            "Start the treadmill at a comfortable walking speed and a small incline. Walk at a steady "
            "pace, raising the incline gradually if the session allows. Avoid holding the handrails "
            "tightly so your stride stays natural."
        ),
    },
    {
        "slug": "marching-in-place",
        "name": "Marching in Place",
        "category": "cardio",
        "body_region": "full_body",
        "equipment": "none",
        "instructions": (
            "Stand tall near a counter or chair for support if needed. March in place by lifting the "
            "knees in turn and swinging the opposite arm. Keep a steady rhythm and land softly on each "
            "foot."
        ),
    },
    {
        "slug": "low-step-cardio-intervals",
        "name": "Low Step Cardio Intervals",
        "category": "cardio",
        "body_region": "full_body",
        "equipment": "step",
        "instructions": (
            "Stand facing a low step with a rail or wall nearby. Step up with one foot, bring the other "
            "up, then step down in the same order at a steady rhythm. Place the whole foot on the step "
            "each time and switch the leading leg regularly."
        ),
    },
    {
        "slug": "stair-climber",
        "name": "Stair Climber",
        "category": "cardio",
        "body_region": "full_body",
        "equipment": "stair climber",
        "instructions": (
            "Step onto the machine and hold the rails lightly for balance. Climb at a steady, even pace, "
            "pressing through the whole foot on each step. Stand upright rather than leaning heavily on "
            "the rails."
        ),
    },
    {
        "slug": "sit-to-stand",
        "name": "Sit-to-Stand",
        "category": "functional",
        "body_region": "knee",
        "equipment": "chair",
        "instructions": (
            "Sit near the front of a sturdy chair with feet flat and hip-width apart. Lean forward "
            "slightly and stand up without using your hands, then sit back down slowly. Keep the knees in "
            "line with the toes and control the descent."
        ),
    },
    {
        "slug": "step-ups",
        "name": "Step-Ups",
        "category": "functional",
        "body_region": "knee",
        "equipment": "step",
        "instructions": (
            "Stand facing a step with a rail or wall nearby for support. Place one whole foot on the step "
            "and press through it to bring the other foot up, then step down with control. Keep the knee "
            "tracking over the middle toes."
        ),
    },
    {
        "slug": "lateral-step-ups",
        "name": "Lateral Step-Ups",
        "category": "functional",
        "body_region": "hip",
        "equipment": "step",
        "instructions": (
            "Stand side-on to a low step. Step up sideways with the near foot and straighten that leg to "
            "lift the body, then lower slowly. Keep the pelvis level and avoid pushing off the floor "
            "foot."
        ),
    },
    {
        "slug": "forward-step-down",
        "name": "Forward Step-Down",
        "category": "functional",
        "body_region": "knee",
        "equipment": "step",
        "instructions": (
            "Stand on a low step with one foot near the front edge. Slowly bend the standing knee to "
            "lower the other heel toward the floor, tap lightly, and rise back up. Keep the standing knee "
            "in line with the toes and the hips level."
        ),
    },
    {
        "slug": "farmer-carry",
        "name": "Farmer Carry",
        "category": "functional",
        "body_region": "full_body",
        "equipment": "dumbbells",
        "instructions": (
            "Hold a dumbbell in each hand at your sides and stand tall. Walk forward with steady, even "
            "steps for the set distance. Keep the shoulders level and avoid leaning toward either weight."
        ),
    },
    {
        "slug": "suitcase-carry",
        "name": "Suitcase Carry",
        "category": "functional",
        "body_region": "core",
        "equipment": "kettlebell",
        "instructions": (
            "Hold a single kettlebell in one hand at your side. Walk forward for the set distance while "
            "keeping the trunk upright, then switch hands. Resist leaning toward the weighted side."
        ),
    },
    {
        "slug": "reverse-lunge",
        "name": "Reverse Lunge",
        "category": "functional",
        "body_region": "knee",
        "equipment": "none",
        "instructions": (
            "Stand tall with feet hip-width apart and a support nearby if needed. Step one foot back and "
            "lower the back knee toward the floor, then push through the front foot to return. Keep the "
            "front knee over the ankle and the trunk upright."
        ),
    },
    {
        "slug": "floor-to-stand-transfer",
        "name": "Floor-to-Stand Transfer",
        "category": "functional",
        "body_region": "full_body",
        "equipment": "mat",
        "instructions": (
            "Start lying or sitting on a mat next to a sturdy chair. Roll to your side, come onto hands "
            "and knees, bring one foot forward, and use the chair to stand up. Move slowly through each "
            "stage and reverse the steps to return to the floor."
        ),
    },
    {
        "slug": "hip-hinge-with-dowel",
        "name": "Hip Hinge with Dowel",
        "category": "functional",
        "body_region": "lumbar_spine",
        "equipment": "dowel",
        "instructions": (
            "Stand holding a dowel along your back so it touches your head, upper back, and tailbone. "
            "Push the hips back and bend forward while keeping all three points in contact, then stand "
            "up. Keep the knees soft and the movement coming from the hips."
        ),
    },
    {
        "slug": "box-squat-to-bench",
        "name": "Box Squat to Bench",
        "category": "functional",
        "body_region": "hip",
        "equipment": "bench",
        "instructions": (
            "Stand in front of a bench with feet shoulder-width apart. Sit back until you lightly touch "
            "the bench, then stand up without rocking. Keep the weight through the heels and the chest "
            "lifted."
        ),
    },
    {
        "slug": "overhead-shelf-reach",
        "name": "Overhead Shelf Reach",
        "category": "functional",
        "body_region": "shoulder",
        "equipment": "light weights",
        "instructions": (
            "Stand facing a shelf at about head height holding a light object. Lift the object and place "
            "it on the shelf, then take it back down. Keep the ribs down and avoid shrugging the shoulder "
            "as you reach."
        ),
    },
    {
        "slug": "pallof-press",
        "name": "Pallof Press",
        "category": "functional",
        "body_region": "core",
        "equipment": "cable machine",
        "instructions": (
            "Stand side-on to a cable or band anchored at chest height, holding the handle at your chest. "
            "Press the handle straight out in front, hold, and bring it back to the chest. Keep the trunk "
            "square and resist being pulled toward the anchor."
        ),
    },
    {
        "slug": "sled-push",
        "name": "Sled Push",
        "category": "functional",
        "body_region": "full_body",
        "equipment": "sled",
        "instructions": (
            "Stand behind a lightly loaded sled with hands on the uprights and the body leaning forward. "
            "Drive the sled forward with short, powerful steps for the set distance. Keep the back flat "
            "and push through the balls of the feet."
        ),
    },
    {
        "slug": "kettlebell-deadlift",
        "name": "Kettlebell Deadlift",
        "category": "functional",
        "body_region": "hip",
        "equipment": "kettlebell",
        "instructions": (
            "Stand with a kettlebell on the floor between your feet. Hinge at the hips, grip the handle, "
            "and stand up by driving the hips forward, then lower it back down. Keep the back flat and "
            "the kettlebell close to your body."
        ),
    },
)


# The entries by slug; two entries with one slug or one name are refused on import.
LIBRARY: Final[dict[str, ExerciseSeed]] = {entry["slug"]: entry for entry in EXERCISES}


if len(LIBRARY) != len(EXERCISES) or len({e["name"] for e in EXERCISES}) != len(EXERCISES):
    raise ValueError("referrals/library/data.py: every slug and every name must be unique")
