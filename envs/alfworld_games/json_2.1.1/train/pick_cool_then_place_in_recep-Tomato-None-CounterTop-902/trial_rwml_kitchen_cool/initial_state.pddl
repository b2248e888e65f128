
(define (problem plan_trial_rwml_kitchen_cool)
(:domain alfred)
(:objects
agent1 - agent
        BowlType - otype
        LettuceType - otype
        SaltShakerType - otype
        SpatulaType - otype
        TomatoType - otype
        CabinetType - rtype
        CounterTopType - rtype
        DrawerType - rtype
        FridgeType - rtype
        MicrowaveType - rtype
        StoveBurnerType - rtype
        Tomato_bar__plus_01_dot_77_bar__plus_00_dot_31_bar__minus_03_dot_13 - object
        Lettuce_bar__plus_02_dot_14_bar__plus_00_dot_42_bar__minus_03_dot_66 - object
        Spatula_bar__plus_02_dot_51_bar__plus_00_dot_53_bar__minus_00_dot_19 - object
        Bowl_bar__plus_02_dot_88_bar__plus_00_dot_64_bar__minus_00_dot_72 - object
        SaltShaker_bar__plus_00_dot_25_bar__plus_00_dot_75_bar__minus_01_dot_25 - object
        CounterTop_bar__plus_02_dot_18_bar__plus_01_dot_54_bar__minus_03_dot_42 - receptacle
        Fridge_bar__plus_02_dot_55_bar__plus_01_dot_65_bar__minus_03_dot_95 - receptacle
        Microwave_bar__plus_02_dot_92_bar__plus_01_dot_76_bar__minus_00_dot_48 - receptacle
        StoveBurner_bar__plus_00_dot_29_bar__plus_01_dot_87_bar__minus_01_dot_01 - receptacle
        StoveBurner_bar__plus_00_dot_66_bar__plus_01_dot_98_bar__minus_01_dot_54 - receptacle
        Cabinet_bar__plus_01_dot_03_bar__plus_00_dot_09_bar__minus_02_dot_07 - receptacle
        Drawer_bar__plus_01_dot_40_bar__plus_00_dot_20_bar__minus_02_dot_60 - receptacle
        loc_bar_0_bar_1_bar_0_bar_30 - location
        loc_bar_1_bar_1_bar_0_bar_30 - location
        loc_bar_2_bar_1_bar_0_bar_30 - location
        loc_bar_3_bar_1_bar_0_bar_30 - location
        loc_bar_3_bar_2_bar_0_bar_30 - location
        loc_bar_4_bar_1_bar_0_bar_30 - location
        loc_bar_5_bar_1_bar_0_bar_30 - location
        loc_bar_9_bar_9_bar_1_bar_45 - location
        )
(:init
        (atLocation agent1 loc_bar_9_bar_9_bar_1_bar_45)
        (receptacleType CounterTop_bar__plus_02_dot_18_bar__plus_01_dot_54_bar__minus_03_dot_42 CounterTopType)
        (receptacleAtLocation CounterTop_bar__plus_02_dot_18_bar__plus_01_dot_54_bar__minus_03_dot_42 loc_bar_0_bar_1_bar_0_bar_30)
        (receptacleType Fridge_bar__plus_02_dot_55_bar__plus_01_dot_65_bar__minus_03_dot_95 FridgeType)
        (receptacleAtLocation Fridge_bar__plus_02_dot_55_bar__plus_01_dot_65_bar__minus_03_dot_95 loc_bar_1_bar_1_bar_0_bar_30)
        (openable Fridge_bar__plus_02_dot_55_bar__plus_01_dot_65_bar__minus_03_dot_95)
        (receptacleType Microwave_bar__plus_02_dot_92_bar__plus_01_dot_76_bar__minus_00_dot_48 MicrowaveType)
        (receptacleAtLocation Microwave_bar__plus_02_dot_92_bar__plus_01_dot_76_bar__minus_00_dot_48 loc_bar_2_bar_1_bar_0_bar_30)
        (openable Microwave_bar__plus_02_dot_92_bar__plus_01_dot_76_bar__minus_00_dot_48)
        (receptacleType StoveBurner_bar__plus_00_dot_29_bar__plus_01_dot_87_bar__minus_01_dot_01 StoveBurnerType)
        (receptacleAtLocation StoveBurner_bar__plus_00_dot_29_bar__plus_01_dot_87_bar__minus_01_dot_01 loc_bar_3_bar_1_bar_0_bar_30)
        (receptacleType StoveBurner_bar__plus_00_dot_66_bar__plus_01_dot_98_bar__minus_01_dot_54 StoveBurnerType)
        (receptacleAtLocation StoveBurner_bar__plus_00_dot_66_bar__plus_01_dot_98_bar__minus_01_dot_54 loc_bar_3_bar_2_bar_0_bar_30)
        (receptacleType Cabinet_bar__plus_01_dot_03_bar__plus_00_dot_09_bar__minus_02_dot_07 CabinetType)
        (receptacleAtLocation Cabinet_bar__plus_01_dot_03_bar__plus_00_dot_09_bar__minus_02_dot_07 loc_bar_4_bar_1_bar_0_bar_30)
        (openable Cabinet_bar__plus_01_dot_03_bar__plus_00_dot_09_bar__minus_02_dot_07)
        (receptacleType Drawer_bar__plus_01_dot_40_bar__plus_00_dot_20_bar__minus_02_dot_60 DrawerType)
        (receptacleAtLocation Drawer_bar__plus_01_dot_40_bar__plus_00_dot_20_bar__minus_02_dot_60 loc_bar_5_bar_1_bar_0_bar_30)
        (openable Drawer_bar__plus_01_dot_40_bar__plus_00_dot_20_bar__minus_02_dot_60)
        (canContain CounterTopType BowlType)
        (canContain CounterTopType LettuceType)
        (canContain CounterTopType SaltShakerType)
        (canContain CounterTopType SpatulaType)
        (canContain CounterTopType TomatoType)
        (canContain FridgeType BowlType)
        (canContain FridgeType LettuceType)
        (canContain FridgeType TomatoType)
        (canContain MicrowaveType BowlType)
        (canContain MicrowaveType TomatoType)
        (canContain CabinetType BowlType)
        (canContain CabinetType SaltShakerType)
        (canContain DrawerType SaltShakerType)
        (canContain DrawerType SpatulaType)
        (objectType Tomato_bar__plus_01_dot_77_bar__plus_00_dot_31_bar__minus_03_dot_13 TomatoType)
        (inReceptacle Tomato_bar__plus_01_dot_77_bar__plus_00_dot_31_bar__minus_03_dot_13 StoveBurner_bar__plus_00_dot_66_bar__plus_01_dot_98_bar__minus_01_dot_54)
        (objectAtLocation Tomato_bar__plus_01_dot_77_bar__plus_00_dot_31_bar__minus_03_dot_13 loc_bar_3_bar_2_bar_0_bar_30)
        (pickupable Tomato_bar__plus_01_dot_77_bar__plus_00_dot_31_bar__minus_03_dot_13)
        (cleanable Tomato_bar__plus_01_dot_77_bar__plus_00_dot_31_bar__minus_03_dot_13)
        (heatable Tomato_bar__plus_01_dot_77_bar__plus_00_dot_31_bar__minus_03_dot_13)
        (coolable Tomato_bar__plus_01_dot_77_bar__plus_00_dot_31_bar__minus_03_dot_13)
        (objectType Lettuce_bar__plus_02_dot_14_bar__plus_00_dot_42_bar__minus_03_dot_66 LettuceType)
        (inReceptacle Lettuce_bar__plus_02_dot_14_bar__plus_00_dot_42_bar__minus_03_dot_66 Fridge_bar__plus_02_dot_55_bar__plus_01_dot_65_bar__minus_03_dot_95)
        (objectAtLocation Lettuce_bar__plus_02_dot_14_bar__plus_00_dot_42_bar__minus_03_dot_66 loc_bar_1_bar_1_bar_0_bar_30)
        (pickupable Lettuce_bar__plus_02_dot_14_bar__plus_00_dot_42_bar__minus_03_dot_66)
        (cleanable Lettuce_bar__plus_02_dot_14_bar__plus_00_dot_42_bar__minus_03_dot_66)
        (coolable Lettuce_bar__plus_02_dot_14_bar__plus_00_dot_42_bar__minus_03_dot_66)
        (objectType Spatula_bar__plus_02_dot_51_bar__plus_00_dot_53_bar__minus_00_dot_19 SpatulaType)
        (inReceptacle Spatula_bar__plus_02_dot_51_bar__plus_00_dot_53_bar__minus_00_dot_19 Drawer_bar__plus_01_dot_40_bar__plus_00_dot_20_bar__minus_02_dot_60)
        (objectAtLocation Spatula_bar__plus_02_dot_51_bar__plus_00_dot_53_bar__minus_00_dot_19 loc_bar_5_bar_1_bar_0_bar_30)
        (pickupable Spatula_bar__plus_02_dot_51_bar__plus_00_dot_53_bar__minus_00_dot_19)
        (cleanable Spatula_bar__plus_02_dot_51_bar__plus_00_dot_53_bar__minus_00_dot_19)
        (objectType Bowl_bar__plus_02_dot_88_bar__plus_00_dot_64_bar__minus_00_dot_72 BowlType)
        (inReceptacle Bowl_bar__plus_02_dot_88_bar__plus_00_dot_64_bar__minus_00_dot_72 Cabinet_bar__plus_01_dot_03_bar__plus_00_dot_09_bar__minus_02_dot_07)
        (objectAtLocation Bowl_bar__plus_02_dot_88_bar__plus_00_dot_64_bar__minus_00_dot_72 loc_bar_4_bar_1_bar_0_bar_30)
        (pickupable Bowl_bar__plus_02_dot_88_bar__plus_00_dot_64_bar__minus_00_dot_72)
        (cleanable Bowl_bar__plus_02_dot_88_bar__plus_00_dot_64_bar__minus_00_dot_72)
        (coolable Bowl_bar__plus_02_dot_88_bar__plus_00_dot_64_bar__minus_00_dot_72)
        (isReceptacleObject Bowl_bar__plus_02_dot_88_bar__plus_00_dot_64_bar__minus_00_dot_72)
        (objectType SaltShaker_bar__plus_00_dot_25_bar__plus_00_dot_75_bar__minus_01_dot_25 SaltShakerType)
        (inReceptacle SaltShaker_bar__plus_00_dot_25_bar__plus_00_dot_75_bar__minus_01_dot_25 CounterTop_bar__plus_02_dot_18_bar__plus_01_dot_54_bar__minus_03_dot_42)
        (objectAtLocation SaltShaker_bar__plus_00_dot_25_bar__plus_00_dot_75_bar__minus_01_dot_25 loc_bar_0_bar_1_bar_0_bar_30)
        (pickupable SaltShaker_bar__plus_00_dot_25_bar__plus_00_dot_75_bar__minus_01_dot_25)
        )

        (:goal
            (and
                (exists (?r - receptacle)
                    (exists (?o - object)
                        (and
                            (coolable ?o)
                            (objectType ?o TomatoType)
                            (receptacleType ?r CounterTopType)
                            (isCool ?o)
                            (inReceptacle ?o ?r)
                        )
                    )
                )
            )
        )
    )
    